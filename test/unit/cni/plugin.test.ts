import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AgentReply, type AgentTransport, AgentTimeoutError, unixSocketTransport } from "../../../cni/agent-client.js";
import { logFileSink } from "../../../cni/log-file.js";
import { type Outcome, type PluginIO, runPlugin } from "../../../cni/plugin.js";
import type { AgentPath } from "../../../cni/protocol.js";
import { K8S_ARGS, netconf } from "./helpers.js";

interface Call {
  method: string;
  path: AgentPath;
  body: unknown;
  timeoutMs: number;
}

/** A transport that records calls and answers every one with `reply` (or throws it). */
function scripted(reply: AgentReply | Error): AgentTransport & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    socketPath: "/scripted.sock",
    calls,
    call: async (method, path, body, timeoutMs) => {
      calls.push({ method, path, body, timeoutMs });
      if (reply instanceof Error) throw reply;
      return reply;
    },
  };
}

const refusal = (status: number, body: unknown): AgentReply => ({ status, body, text: JSON.stringify(body) });
const env = (over: Record<string, string | undefined> = {}): Record<string, string | undefined> => ({
  CNI_COMMAND: "ADD",
  CNI_CONTAINERID: "c0ffee",
  CNI_NETNS: "/var/run/netns/x",
  CNI_IFNAME: "eth0",
  CNI_PATH: "/opt/cni/bin",
  CNI_ARGS: K8S_ARGS,
  ...over,
});

let tmp: string;
let stderr: string[];
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "cni-plugin-"));
  stderr = [];
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function io(envVars: Record<string, string | undefined>, stdin: string, agent?: AgentTransport): PluginIO {
  return {
    env: envVars,
    readStdin: () => stdin,
    stderr: (line) => stderr.push(line),
    openLogFile: (ipam) => logFileSink({ path: ipam.logFilePath, maxSizeMiB: 1, maxCount: 1, onFailure: (l) => stderr.push(l) }),
    connect: (socketPath) => agent ?? unixSocketTransport(socketPath),
  };
}

function printed(out: Outcome): { cniVersion: string; code: number; msg: string; details?: string } {
  expect(out.exitCode).toBe(1);
  expect(out.stdout.endsWith("\n")).toBe(true);
  return JSON.parse(out.stdout) as { cniVersion: string; code: number; msg: string; details?: string };
}

describe("runPlugin: refusals before the agent is asked", () => {
  it.each([
    ["no CNI_COMMAND", 4, env({ CNI_COMMAND: undefined }), netconf()],
    ["an unknown command", 4, env({ CNI_COMMAND: "PING" }), netconf()],
    ["ADD without CNI_NETNS", 4, env({ CNI_NETNS: undefined }), netconf()],
    ["ADD whose CNI_ARGS name no Pod", 4, env({ CNI_ARGS: "IgnoreUnknown=1" }), netconf()],
    ["ADD whose CNI_ARGS lack K8S_POD_NAMESPACE", 4, env({ CNI_ARGS: "K8S_POD_NAME=web-0" }), netconf()],
    ["CHECK whose CNI_ARGS name no Pod", 4, env({ CNI_COMMAND: "CHECK", CNI_ARGS: "" }), netconf({ cniVersion: "0.4.0" })],
    ["stdin that is not JSON", 6, env(), "not json"],
    ["no ipam", 7, env(), JSON.stringify({ cniVersion: "1.0.0", name: "n" })],
    ["ipam.type host-local", 7, env(), netconf({}, { type: "host-local" })],
    ["cniVersion 0.2.0", 1, env(), netconf({ cniVersion: "0.2.0" })],
    ["GC at 1.0.0", 1, env({ CNI_COMMAND: "GC" }), netconf({ "cni.dev/valid-attachments": [] })],
    ["STATUS at 0.4.0", 1, env({ CNI_COMMAND: "STATUS" }), netconf({ cniVersion: "0.4.0" })],
    ["an unknown ipam field", 2, env(), netconf({}, { pool: "x" })],
  ])("%s: code %i, JSON on stdout only, agent never called", async (_what, code, vars, stdin) => {
    const agent = scripted(new Error("must not be called"));
    const err = printed(await runPlugin(io(vars, stdin, agent)));
    expect(err.code).toBe(code);
    expect(Object.keys(err).sort()).toEqual(err.details === undefined ? ["cniVersion", "code", "msg"] : ["cniVersion", "code", "details", "msg"]);
    expect(agent.calls).toEqual([]);
    expect(stderr.join("")).toContain(`"code":${code}`);
  });

  it("echoes the config's cniVersion in errors once it is known, else the newest", async () => {
    expect(printed(await runPlugin(io(env({ CNI_ARGS: "" }), netconf({ cniVersion: "0.3.1" })))).cniVersion).toBe("0.3.1");
    expect(printed(await runPlugin(io(env(), "nope"))).cniVersion).toBe("1.1.0");
    expect(printed(await runPlugin(io(env(), netconf({ cniVersion: "0.2.0" })))).cniVersion).toBe("1.1.0");
  });

  it("an unreadable stdin is an I/O failure (5)", async () => {
    const broken = { ...io(env(), ""), readStdin: () => { throw new Error("EIO"); } };
    expect(printed(await runPlugin(broken)).code).toBe(5);
  });
});

describe("runPlugin: VERSION", () => {
  it.each([
    ["", "1.1.0"],
    ['{"cniVersion":"0.4.0"}', "0.4.0"],
    ['{"cniVersion":"0.2.0"}', "1.1.0"],
    ["garbage", "1.1.0"],
  ])("stdin %j answers cniVersion %s with every supported version", async (stdin, cniVersion) => {
    const out = await runPlugin(io({ CNI_COMMAND: "VERSION" }, stdin));
    expect(out.exitCode).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({ cniVersion, supportedVersions: ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"] });
  });
});

describe("runPlugin: an unreachable agent (real unix socket client, no listener)", () => {
  it("ADD fails with 11 and names the socket path", async () => {
    const sock = join(tmp, "agent.sock");
    const err = printed(await runPlugin(io(env(), netconf({}, { ipam_unix_socket_path: sock }))));
    expect(err.code).toBe(11);
    expect(err.msg).toBe(`spiderpool-agent is not reachable at ${sock}: connect ENOENT ${sock}`);
    expect(err.details).toMatch(/is the spiderpool-agent Pod running on this node/);
  });

  it.each([["DEL"], ["CHECK"]])("%s fails with 11 so the runtime retries", async (command) => {
    const sock = join(tmp, "agent.sock");
    const out = await runPlugin(io(env({ CNI_COMMAND: command }), netconf({ cniVersion: "1.0.0" }, { ipam_unix_socket_path: sock })));
    expect(printed(out).code).toBe(11);
  });

  it("GC fails with 11", async () => {
    const stdin = netconf({ cniVersion: "1.1.0", "cni.dev/valid-attachments": [] }, { ipam_unix_socket_path: join(tmp, "a.sock") });
    expect(printed(await runPlugin(io({ CNI_COMMAND: "GC" }, stdin))).code).toBe(11);
  });

  it("STATUS answers 50 (cannot serve ADD)", async () => {
    const stdin = netconf({ cniVersion: "1.1.0" }, { ipam_unix_socket_path: join(tmp, "a.sock") });
    const err = printed(await runPlugin(io({ CNI_COMMAND: "STATUS" }, stdin)));
    expect(err.code).toBe(50);
    expect(err.msg).toContain(join(tmp, "a.sock"));
  });
});

describe("runPlugin: what the agent's refusals become", () => {
  it("a DEL of an attachment the agent does not know (code 3) succeeds, silently on stdout", async () => {
    const agent = scripted(refusal(404, { code: 3, msg: "no such pod", reason: "POD_NOT_FOUND" }));
    const out = await runPlugin(io(env({ CNI_COMMAND: "DEL", CNI_NETNS: "" }), netconf(), agent));
    expect(out).toEqual({ stdout: "", exitCode: 0 });
    expect(agent.calls).toHaveLength(1);
    expect(agent.calls[0]?.path).toBe("/v1/cni/del");
    expect(agent.calls[0]?.body).toMatchObject({ containerID: "c0ffee", netns: "", ifName: "eth0", podName: "web-0", podUID: "0b8e-11" });
  });

  it("a DEL without Pod identity succeeds without asking the agent", async () => {
    const agent = scripted(new Error("must not be called"));
    expect(await runPlugin(io(env({ CNI_COMMAND: "DEL", CNI_ARGS: "IgnoreUnknown=1" }), netconf(), agent))).toEqual({ stdout: "", exitCode: 0 });
    expect(agent.calls).toEqual([]);
    expect(stderr.join("")).toMatch(/DEL without K8S_POD_NAMESPACE/);
  });

  it("a DEL the agent refuses otherwise fails with the agent's code", async () => {
    const agent = scripted(refusal(503, { code: 11, msg: "pod cache not synced yet" }));
    expect(printed(await runPlugin(io(env({ CNI_COMMAND: "DEL" }), netconf(), agent))).code).toBe(11);
  });

  it("an ADD refusal is printed as the agent phrased it, reason first in the details", async () => {
    const agent = scripted(refusal(409, { code: 110, msg: "pool v4-a has 0 of 500 addresses free", reason: "POOL_EXHAUSTED", details: "try v4-b" }));
    const err = printed(await runPlugin(io(env(), netconf({ cniVersion: "0.4.0" }), agent)));
    expect(err).toEqual({ cniVersion: "0.4.0", code: 110, msg: "pool v4-a has 0 of 500 addresses free", details: "POOL_EXHAUSTED: try v4-b" });
  });

  it("sends the agent the request protocol.ts describes", async () => {
    const agent = scripted(refusal(500, { code: 11, msg: "later" }));
    await runPlugin(io(env(), netconf({}, { default_ipv4_ippool: ["v4-a"], clean_gateway: true }), agent));
    expect(agent.calls[0]).toEqual({
      method: "POST",
      path: "/v1/cni/add",
      timeoutMs: 90_000,
      body: {
        containerID: "c0ffee",
        netns: "/var/run/netns/x",
        ifName: "eth0",
        network: "macvlan-eth0",
        podNamespace: "default",
        podName: "web-0",
        podUID: "0b8e-11",
        cniVersion: "1.0.0",
        ipam: { default_ipv4_ippool: ["v4-a"], default_ipv6_ippool: [], clean_gateway: true },
      },
    });
  });

  it("CHECK forwards prevResult", async () => {
    const agent = scripted(refusal(500, { code: 11, msg: "later" }));
    const prevResult = { cniVersion: "0.4.0", ips: [{ version: "4", address: "10.6.0.5/24" }] };
    await runPlugin(io(env({ CNI_COMMAND: "CHECK" }), netconf({ cniVersion: "0.4.0", prevResult }), agent));
    expect(agent.calls[0]?.path).toBe("/v1/cni/check");
    expect((agent.calls[0]?.body as { prevResult: unknown }).prevResult).toEqual(prevResult);
  });

  it("GC forwards the network and the valid attachments, and prints nothing on success", async () => {
    const agent = scripted({ status: 200, body: { released: 2 }, text: '{"released":2}' });
    const list = [{ containerID: "c1", ifname: "eth0" }];
    const out = await runPlugin(io({ CNI_COMMAND: "GC" }, netconf({ cniVersion: "1.1.0", "cni.dev/attachments": list }), agent));
    expect(out).toEqual({ stdout: "", exitCode: 0 });
    expect(agent.calls[0]).toMatchObject({ path: "/v1/cni/gc", body: { network: "macvlan-eth0", validAttachments: list } });
  });

  it("a GC answer without a released count is a protocol error (100)", async () => {
    const agent = scripted({ status: 200, body: {}, text: "{}" });
    const out = await runPlugin(io({ CNI_COMMAND: "GC" }, netconf({ cniVersion: "1.1.0", "cni.dev/valid-attachments": [] }), agent));
    expect(printed(out).code).toBe(100);
  });

  it.each([
    ["an agent that does not answer in time", 50, new AgentTimeoutError("/s.sock", "/v1/cni/status", 5000)],
    ["a 51 from the agent", 51, refusal(503, { code: 51, msg: "uplink down" })],
    ["any other refusal", 50, refusal(503, { code: 11, msg: "caches not synced" })],
    ["an HTTP error without body", 50, { status: 502, body: undefined, text: "" }],
  ])("STATUS maps %s to %i", async (_what, code, reply) => {
    const out = await runPlugin(io({ CNI_COMMAND: "STATUS" }, netconf({ cniVersion: "1.1.0" }), scripted(reply)));
    expect(printed(out).code).toBe(code);
  });

  it("STATUS succeeds with nothing on stdout when the agent answers 200", async () => {
    const agent = scripted({ status: 200, body: {}, text: "{}" });
    expect(await runPlugin(io({ CNI_COMMAND: "STATUS" }, netconf({ cniVersion: "1.1.0" }), agent))).toEqual({ stdout: "", exitCode: 0 });
    expect(agent.calls[0]).toMatchObject({ method: "GET", path: "/v1/cni/status", body: undefined, timeoutMs: 5000 });
  });

  it.each([
    ["an HTML error page", { status: 502, body: undefined, text: "<html>bad gateway</html>" }],
    ["a 200 ADD answer without ips", { status: 200, body: { routes: [] }, text: "{}" }],
  ])("an ADD answered with %s is a protocol error (100)", async (_what, reply) => {
    expect(printed(await runPlugin(io(env(), netconf(), scripted(reply)))).code).toBe(100);
  });

  it("an exception inside the plugin is code 101, never a crash", async () => {
    const agent = scripted(new TypeError("boom"));
    const err = printed(await runPlugin(io(env(), netconf(), agent)));
    expect(err.code).toBe(101);
    expect(err.details).toMatch(/TypeError: boom/);
  });
});

describe("runPlugin: logs", () => {
  it("go to stderr and the log file at log_level, with the container and Pod", async () => {
    const file = join(tmp, "log", "spiderpool.log");
    const stdin = netconf({}, { log_level: "debug", log_file_path: file, ipam_unix_socket_path: join(tmp, "none.sock") });
    await runPlugin(io(env(), stdin));
    const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.level)).toEqual(["debug", "error"]);
    expect(lines[1]).toMatchObject({ command: "ADD", containerID: "c0ffee", ifName: "eth0", pod: "default/web-0", network: "macvlan-eth0", code: 11 });
    expect(stderr).toHaveLength(2);
  });

  it("log_level error keeps info and debug out", async () => {
    const agent = scripted(refusal(404, { code: 3, msg: "gone" }));
    await runPlugin(io(env({ CNI_COMMAND: "DEL" }), netconf({}, { log_level: "error" }), agent));
    expect(stderr).toEqual([]);
  });
});
