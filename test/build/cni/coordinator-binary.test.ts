/**
 * The bundled coordinator as a runtime runs it: a subprocess with CNI_* variables and the
 * config on stdin, here for its refusals (the e2e tier runs it for real in namespaces).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { K8S_ARGS } from "../../unit/cni/helpers.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
let out: string;
let plugin: string;

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), "coordinator-binary-"));
  const res = spawnSync(process.execPath, [join(root, "scripts/bundle.mjs"), "--only", "coordinator", "--outdir", out], { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`bundle.mjs failed:\n${res.stdout}${res.stderr}`);
  plugin = join(out, "cni/coordinator.cjs");
}, 60_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

const run = (env: Record<string, string>, stdin: string): SpawnSyncReturns<string> =>
  spawnSync(process.execPath, [plugin], { env: { PATH: "/usr/bin:/bin:/usr/sbin:/sbin", ...env }, input: stdin, encoding: "utf8", timeout: 20_000 });

const add = { CNI_COMMAND: "ADD", CNI_CONTAINERID: "c0ffee", CNI_NETNS: "/var/run/netns/none", CNI_IFNAME: "eth0", CNI_PATH: "/opt/cni/bin", CNI_ARGS: K8S_ARGS };
const conf = (over: Record<string, unknown> = {}) => JSON.stringify({ cniVersion: "1.0.0", name: "n", type: "coordinator", agentSocketPath: "", ...over });
const prevResult = { cniVersion: "1.0.0", interfaces: [{ name: "eth0", sandbox: "/var/run/netns/none" }], ips: [{ interface: 0, address: "10.6.0.5/24" }] };

function cniErrorOf(res: SpawnSyncReturns<string>): { code: number; msg: string; details?: string } {
  expect(res.status).toBe(1);
  expect(res.stdout.trim().split("\n")).toHaveLength(1);
  return JSON.parse(res.stdout) as { code: number; msg: string; details?: string };
}

describe("the bundled coordinator", () => {
  it("is one CommonJS file that loads node: built-ins only", () => {
    const required = [...readFileSync(plugin, "utf8").matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(required.filter((name) => !name?.startsWith("node:"))).toEqual([]);
  });

  it.each([
    ["stdin that is not JSON", 6, "{"],
    ["no prevResult (not chained)", 7, conf()],
    ["an unknown field", 2, conf({ prevResult, tuneRoutes: true })],
    ["cniVersion 0.2.0", 1, conf({ cniVersion: "0.2.0" })],
  ])("%s: exit 1, code %i", (_what, code, stdin) => {
    expect(cniErrorOf(run(add, stdin)).code).toBe(code);
  });

  it("names the command that failed when the Pod's namespace does not exist", () => {
    const err = cniErrorOf(run(add, conf({ prevResult, mode: "underlay" })));
    expect(err.code).toBe(200);
    expect(err.msg).toContain("namespace /var/run/netns/none");
    expect(err.details).toMatch(/nsenter/);
  });

  it("DEL of a Pod whose namespace is gone succeeds (nothing of ours on this host)", () => {
    const res = run({ ...add, CNI_COMMAND: "DEL" }, conf({ prevResult }));
    expect(res.stdout).toBe("");
    expect(res.status).toBe(0);
  });

  it("answers 11 when asked to use an agent that is not there", () => {
    const err = cniErrorOf(run(add, conf({ prevResult, agentSocketPath: join(out, "nobody.sock") })));
    expect(err.code).toBe(11);
    expect(err.msg).toContain("nobody.sock");
  });
});
