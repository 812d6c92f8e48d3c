import { describe, expect, it } from "@jest/globals";
import { type AgentReply, AgentUnreachableError, type AgentTransport } from "../../../../cni/agent-client.js";
import { askAgent } from "../../../../cni/coordinator/agent-defaults.js";
import { parseCoordinatorConf } from "../../../../cni/coordinator/config.js";
import { createLogger } from "../../../../cni/log.js";
import { cniError } from "../helpers.js";

const lines: string[] = [];
const log = createLogger("debug", [(l) => lines.push(l)]);
const conf = (over: Record<string, unknown> = {}) => parseCoordinatorConf(JSON.stringify({ cniVersion: "1.0.0", name: "n", type: "coordinator", agentSocketPath: "/run/a.sock", prevResult: {}, ...over }), "ADD");
const pod = { namespace: "default", name: "web-0" };

function agent(reply: AgentReply | Error): { connect: (p: string) => AgentTransport; calls: unknown[] } {
  const calls: unknown[] = [];
  return {
    calls,
    connect: (socketPath) => ({
      socketPath,
      call: (method, path, body) => {
        calls.push({ socketPath, method, path, body });
        return reply instanceof Error ? Promise.reject(reply) : Promise.resolve(reply);
      },
    }),
  };
}

describe("the cluster's coordinator defaults, from spiderpool-agent", () => {
  it("asks for the Pod and reads the answer as network-config fields", async () => {
    const a = agent({ status: 200, body: { defaults: { mode: "underlay", serviceCIDR: ["10.96.0.0/12"], hostRuleTable: 600, podCIDRType: "cluster" }, podDefaultRouteNIC: "net1" }, text: "" });
    const d = await askAgent(a.connect, conf(), pod, log);
    expect(a.calls).toEqual([{ socketPath: "/run/a.sock", method: "POST", path: "/v1/coordinator/config", body: { podNamespace: "default", podName: "web-0" } }]);
    expect(d).toEqual({ tunables: { mode: "underlay", serviceCIDR: [{ family: 4, ip: "10.96.0.0", prefix: 12 }], hostRuleTable: 600 }, podDefaultRouteNIC: "net1" });
  });

  it("does not ask when agentSocketPath is empty or the runtime names no Pod", async () => {
    const a = agent(new Error("must not be called"));
    expect(await askAgent(a.connect, conf({ agentSocketPath: "" }), pod, log)).toEqual({});
    expect(await askAgent(a.connect, conf(), undefined, log)).toEqual({});
    expect(a.calls).toEqual([]);
  });

  it("goes on with the network config when the agent does not serve the path (an older agent)", async () => {
    expect(await askAgent(agent({ status: 404, body: undefined, text: "" }).connect, conf(), pod, log)).toEqual({});
    expect(lines.join("")).toContain("does not serve coordinator defaults");
  });

  it("an unreachable agent is code 11; its refusal is passed on; a bad default is code 7 naming SpiderCoordinator", async () => {
    const unreachable = agent(new AgentUnreachableError("/run/a.sock", { code: "ENOENT", message: "no such file" }));
    await expect(askAgent(unreachable.connect, conf(), pod, log)).rejects.toMatchObject({ code: 11 });
    const refused = agent({ status: 503, body: { code: 11, msg: "spiderpool-agent is starting" }, text: "" });
    await expect(askAgent(refused.connect, conf(), pod, log)).rejects.toMatchObject({ code: 11, message: "spiderpool-agent is starting" });
    const bad = agent({ status: 200, body: { defaults: { hijackCIDR: ["nope"] } }, text: "" });
    const err = await askAgent(bad.connect, conf(), pod, log).catch((e: unknown) => e);
    expect(cniError(() => { throw err; })).toMatchObject({ code: 7, message: "SpiderCoordinator: hijackCIDR[0] is not a CIDR" });
  });
});
