import { describe, expect, it } from "@jest/globals";
import { answer } from "../../../agent/cni-service.js";
import { parseAgentConfig } from "../../../agent/config.js";
import { ConfigError } from "../../../runtime/settings.js";

describe("the agent's ADD answer", () => {
  const dual = {
    interface: "eth0",
    ipv4: "10.6.0.5/24",
    ipv4Gateway: "10.6.0.1",
    ipv4Pool: "v4",
    ipv4Token: 3,
    ipv6: "fd00:6::5/64",
    ipv6Gateway: "fd00:6::1",
    ipv6Pool: "v6",
    ipv6Token: 9,
    vlan: 6,
    routes: [{ dst: "172.30.0.0/16", gw: "10.6.0.254" }],
  };

  it("gives both families with their gateways, a default route per family, and the pool routes", () => {
    expect(answer(dual, false)).toEqual({
      ips: [
        { interface: "eth0", address: "10.6.0.5/24", family: 4, gateway: "10.6.0.1", vlan: 6 },
        { interface: "eth0", address: "fd00:6::5/64", family: 6, gateway: "fd00:6::1", vlan: 6 },
      ],
      routes: [
        { dst: "0.0.0.0/0", gw: "10.6.0.1" },
        { dst: "::/0", gw: "fd00:6::1" },
        { dst: "172.30.0.0/16", gw: "10.6.0.254" },
      ],
    });
  });

  it("drops the default routes when the Pod or the network config asks for a clean gateway", () => {
    expect(answer({ ...dual, cleanGateway: true }, false).routes).toEqual([{ dst: "172.30.0.0/16", gw: "10.6.0.254" }]);
    expect(answer(dual, true).routes).toEqual([{ dst: "172.30.0.0/16", gw: "10.6.0.254" }]);
  });

  it("has no default route without a gateway", () => {
    expect(answer({ interface: "net1", ipv4: "10.7.0.5/24", ipv4Pool: "p", ipv4Token: 1 }, false)).toEqual({
      ips: [{ interface: "net1", address: "10.7.0.5/24", family: 4 }],
      routes: [],
    });
  });
});

describe("agent configuration", () => {
  it("needs the node name and defaults the socket", () => {
    expect(() => parseAgentConfig({}, [])).toThrow(ConfigError);
    const c = parseAgentConfig({ NODE_NAME: "worker-1" }, ["--health-port=0"]);
    expect(c).toMatchObject({ nodeName: "worker-1", socketPath: "/var/run/spidernet/spiderpool.sock", healthPort: 0, endpointWaitMs: 10000 });
    expect(Object.isFrozen(c)).toBe(true);
  });
});
