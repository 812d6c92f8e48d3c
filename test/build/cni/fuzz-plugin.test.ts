/**
 * Fuzzing the built `spiderpool` plugin as a runtime runs it: arbitrary CNI_* environments
 * and network configs on stdin, each case one process. Properties: it always ends with exit
 * 0 or 1; on 1, stdout is exactly one CNI error object (cniVersion, a numeric code that is
 * not the plugin's internal error, a message); and it writes nothing outside the host's log
 * directory, whatever log_file_path or socket path the config names. An agent stand-in
 * answers on the socket (refusals, garbage, silence) so the answer-reading paths run too.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { anyJson, iface, poolName } from "../../fuzz/arbitraries.js";
import { fuzzParameters } from "../../harness/fuzz.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
let out: string;
let plugin: string;
let host: string;
let agent: Server;
let sock: string;

/** The stand-in agent: answers by the request's first byte of container id, so cases vary. */
function standInAgent(path: string): Promise<Server> {
  const answers = [
    (res: import("node:http").ServerResponse) => res.writeHead(200, { "content-type": "application/json" }).end('{"ips":[{"interface":"eth0","address":"10.1.0.5/24","gateway":"10.1.0.1"}],"routes":[]}'),
    (res: import("node:http").ServerResponse) => res.writeHead(409, { "content-type": "application/json" }).end('{"code":110,"msg":"refused","reason":"POOL_EXHAUSTED"}'),
    (res: import("node:http").ServerResponse) => res.writeHead(200).end("not json"),
    (res: import("node:http").ServerResponse) => res.writeHead(503, { "content-type": "application/json" }).end('{"code":11,"msg":"later"}'),
    (res: import("node:http").ServerResponse) => res.writeHead(200, { "content-type": "application/json" }).end('{"ips":"x"}'),
  ];
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => answers[n++ % answers.length]?.(res));
  });
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), "cni-fuzz-"));
  const res = spawnSync(process.execPath, [join(root, "scripts/bundle.mjs"), "--only", "cni", "--outdir", out], { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`bundle.mjs failed:\n${res.stdout}${res.stderr}`);
  plugin = join(out, "cni/spiderpool.cjs");
  host = join(out, "host");
  mkdirSync(join(host, "logs"), { recursive: true });
  mkdirSync(join(host, "elsewhere"), { recursive: true });
  writeFileSync(join(host, "settings.json"), JSON.stringify({ log_dir: join(host, "logs") }));
  sock = join(host, "agent.sock");
  agent = await standInAgent(sock);
}, 60_000);
afterAll(async () => {
  await new Promise((r) => agent.close(r));
  rmSync(out, { recursive: true, force: true });
});

function run(env: Record<string, string>, stdin: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [plugin], { env: { PATH: "/usr/bin:/bin", SPIDERPOOL_CNI_HOST_SETTINGS: join(host, "settings.json"), ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin);
  });
}

const command = fc.constantFrom("ADD", "DEL", "CHECK", "GC", "STATUS", "VERSION", "", "add", "FOO");
const cniVersion = fc.constantFrom("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0", "0.2.0", "2.0.0", "", "1.0");
const containerId = fc.constantFrom("c0ffee", "abc-123_x.y", "", "../../etc", "a b", "-x", "x".repeat(300));
const cniArgs = fc.oneof(
  fc.constantFrom("IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=c0ffee;K8S_POD_UID=0b8e-11", "K8S_POD_NAMESPACE=a", "", ";;==;", "K8S_POD_UID=../../x;K8S_POD_NAMESPACE=a;K8S_POD_NAME=b"),
  fc.array(fc.tuple(fc.constantFrom("K8S_POD_NAMESPACE", "K8S_POD_NAME", "K8S_POD_UID", "IgnoreUnknown", "X"), fc.string({ maxLength: 12 })), { maxLength: 5 }).map((kv) => kv.map(([k, v]) => `${k}=${v}`).join(";")),
);

/** The log paths and sockets a config may name: inside the log dir, outside, climbing out. */
const logPath = () => fc.constantFrom(undefined, join(host, "logs", "p.log"), join(host, "elsewhere", "x.log"), join(host, "logs", "..", "elsewhere", "y.log"), "relative.log", "", join(host, "logs", "sub", "q.log"));
const socketPath = () => fc.constantFrom(sock, join(host, "none.sock"), "relative.sock", join(host, "elsewhere", "s"), "");

const ipamStanza = () =>
  fc.record(
    {
      type: fc.constantFrom("spiderpool", "spiderpool", "host-local"),
      log_level: fc.constantFrom("debug", "info", "WARNING", "panic", "bogus"),
      log_file_path: logPath(),
      log_file_max_size: fc.oneof(fc.integer({ min: -1, max: 3 }), anyJson),
      log_file_max_count: fc.oneof(fc.integer({ min: -1, max: 3 }), anyJson),
      default_ipv4_ippool: fc.oneof(fc.array(poolName, { maxLength: 2 }), anyJson),
      clean_gateway: fc.oneof(fc.boolean(), anyJson),
      ipam_unix_socket_path: socketPath(),
      extra: anyJson,
    },
    { requiredKeys: ["type"] },
  );

const netconf = () =>
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ cniVersion, name: fc.constantFrom("net", "", "x/y"), type: fc.constant("macvlan"), ipam: fc.oneof({ weight: 6, arbitrary: ipamStanza() }, { weight: 1, arbitrary: anyJson }), prevResult: fc.option(anyJson, { nil: undefined }), "cni.dev/valid-attachments": fc.option(fc.oneof(fc.array(fc.record({ containerID: containerId, ifname: iface })), anyJson), { nil: undefined }) }, { requiredKeys: ["cniVersion", "name", "ipam"] }).map((c) => JSON.stringify(c)) },
    { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 50 }), fc.constant(""), fc.constant("{"), anyJson.map((v) => JSON.stringify(v))) },
  );

describe("fuzzing the built plugin", () => {
  it("always answers with exit 0, or exit 1 and one CNI error object that is not an internal error; writes nothing outside the log directory", async () => {
    const started = Date.now();
    const params = fuzzParameters(200);
    await fc.assert(
      fc.asyncProperty(command, containerId, iface, cniArgs, netconf(), fc.constantFrom("/var/run/netns/x", "", "rel"), async (cmd, cid, ifName, args, stdin, netns) => {
        const res = await run({ CNI_COMMAND: cmd, CNI_CONTAINERID: cid, CNI_IFNAME: ifName, CNI_ARGS: args, CNI_NETNS: netns, CNI_PATH: "/opt/cni/bin" }, stdin);
        const where = `CNI_COMMAND=${cmd} CNI_CONTAINERID=${cid} CNI_IFNAME=${ifName} CNI_ARGS=${args}\nstdin: ${stdin.slice(0, 800)}\nstdout: ${res.stdout}\nstderr: ${res.stderr.slice(0, 800)}`;
        if (res.code !== 0 && res.code !== 1) throw new Error(`exit ${String(res.code)}\n${where}`);
        if (res.code === 1) {
          const lines = res.stdout.trim().split("\n");
          const err = JSON.parse(lines[0] ?? "") as { cniVersion?: unknown; code?: unknown; msg?: unknown };
          if (lines.length !== 1 || typeof err.code !== "number" || typeof err.msg !== "string" || err.msg === "" || typeof err.cniVersion !== "string") throw new Error(`not one CNI error\n${where}`);
          if (err.code === 101) throw new Error(`internal error\n${where}`);
        }
        const escaped = readdirSync(join(host, "elsewhere"));
        if (escaped.length > 0) throw new Error(`wrote ${escaped.join(", ")} outside the log directory\n${where}`);
      }),
      params,
    );
    process.stdout.write(`fuzz plugin: ${params.numRuns} cases in ${Date.now() - started} ms\n`);
    expect(readdirSync(join(host, "elsewhere"))).toEqual([]);
  }, 1_800_000);
});
