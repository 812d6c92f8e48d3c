import { describe, expect, it } from "@jest/globals";
import { ConfigError, parseControllerConfig } from "../../../webhook/config.js";

describe("controller configuration", () => {
  it("takes defaults, then the environment, then flags", () => {
    const c = parseControllerConfig({ SPIDERPOOL_WEBHOOK_PORT: "6000", SPIDERPOOL_TLS_EXTRA_IPS: "127.0.0.1, ::1" }, ["--webhook-port=7000", "--namespace", "spider"]);
    expect(c.port).toBe(7000);
    expect(c.namespace).toBe("spider");
    expect(c.tls.extraIPs).toEqual(["127.0.0.1", "::1"]);
    expect(c.tls.secretName).toBe("spiderpool-controller-webhook-tls");
    expect(c.webhookConfigurations).toEqual({ mutating: ["spiderpool-mutating"], validating: ["spiderpool-validating"] });
  });

  it("is frozen all the way down", () => {
    const c = parseControllerConfig({}, []);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.tls)).toBe(true);
    expect(Object.isFrozen(c.tls.extraIPs)).toBe(true);
  });

  it("reports every problem at once", () => {
    let err: unknown;
    try {
      parseControllerConfig({ SPIDERPOOL_WEBHOOK_PORT: "70000" }, ["--log-level=verbose", "--nope=1", "stray"]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      "unknown flag --nope",
      "unexpected argument 'stray' (flags look like --name=value)",
      "--webhook-port / SPIDERPOOL_WEBHOOK_PORT is '70000'; use a whole number from 0 to 65535 (port)",
      "--log-level / SPIDERPOOL_LOG_LEVEL is 'verbose'; use debug, info, warn or error",
    ]);
  });

  it("refuses renewing certificates before they are even valid", () => {
    expect(() => parseControllerConfig({}, ["--renew-before-days=400"])).toThrow("--renew-before-days (400) must be less than --cert-validity-days (365)");
  });
});
