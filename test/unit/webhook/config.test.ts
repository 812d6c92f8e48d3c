import { describe, expect, it } from "@jest/globals";
import { ConfigError, parseControllerConfig } from "../../../webhook/config.js";

/** The admission clients' CA every controller must name (or turn the check off). */
const CA = { SPIDERPOOL_ADMISSION_CLIENT_CA_FILE: "/etc/spiderpool/apiserver-client-ca.crt" };

describe("controller configuration", () => {
  it("takes defaults, then the environment, then flags", () => {
    const c = parseControllerConfig({ ...CA, SPIDERPOOL_WEBHOOK_PORT: "6000", SPIDERPOOL_TLS_EXTRA_IPS: "127.0.0.1, ::1" }, ["--webhook-port=7000", "--namespace", "spider"]);
    expect(c.port).toBe(7000);
    expect(c.namespace).toBe("spider");
    expect(c.tls.extraIPs).toEqual(["127.0.0.1", "::1"]);
    expect(c.tls.secretName).toBe("spiderpool-controller-webhook-tls");
    expect(c.webhookConfigurations).toEqual({ mutating: ["spiderpool-mutating"], validating: ["spiderpool-validating"] });
  });

  it("is frozen all the way down", () => {
    const c = parseControllerConfig(CA, []);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.tls)).toBe(true);
    expect(Object.isFrozen(c.tls.extraIPs)).toBe(true);
  });

  it("reports every problem at once", () => {
    let err: unknown;
    try {
      parseControllerConfig({ ...CA, SPIDERPOOL_WEBHOOK_PORT: "70000" }, ["--log-level=verbose", "--nope=1", "stray"]);
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
    expect(() => parseControllerConfig(CA, ["--renew-before-days=400"])).toThrow("--renew-before-days (400) must be less than --cert-validity-days (365)");
  });

  it("refuses to start without the admission clients' CA unless the check is turned off, and keeps metrics off the admission port", () => {
    expect(() => parseControllerConfig({}, [])).toThrow("--admission-client-ca-file (SPIDERPOOL_ADMISSION_CLIENT_CA_FILE) is not set");
    const open = parseControllerConfig({ SPIDERPOOL_ADMISSION_CLIENT_AUTH: "false" }, []);
    expect(open.admissionClients).toEqual({ required: false, names: [] });
    const c = parseControllerConfig({ ...CA, SPIDERPOOL_ADMISSION_CLIENT_NAMES: "kube-apiserver-webhook-client" }, []);
    expect(c.admissionClients).toEqual({ required: true, caFile: CA.SPIDERPOOL_ADMISSION_CLIENT_CA_FILE, names: ["kube-apiserver-webhook-client"] });
    expect([c.port, c.metricsPort]).toEqual([5722, 5721]);
    expect(c.ipam.agentAudience).toBe("spiderpool");
    expect(() => parseControllerConfig(CA, ["--metrics-port=5722"])).toThrow("--metrics-port (5722) must differ from --webhook-port (5722)");
  });
});
