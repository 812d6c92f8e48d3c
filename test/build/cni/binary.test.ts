/**
 * The bundled binary as a runtime runs it: a subprocess with CNI_* variables and the
 * config on stdin. Only refusals and error paths (the agent does not exist yet); the
 * e2e tier runs ADD/DEL against the real agent with the real macvlan plugin.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { K8S_ARGS, netconf } from "../../unit/cni/helpers.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
let out: string;
let plugin: string;

function bundle(...args: string[]): void {
  const res = spawnSync(process.execPath, [join(root, "scripts/bundle.mjs"), "--only", "cni", "--outdir", out, ...args], { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`bundle.mjs ${args.join(" ")} failed:\n${res.stdout}${res.stderr}`);
}

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), "cni-binary-"));
  bundle();
  plugin = join(out, "cni/spiderpool.cjs");
}, 60_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** A clean environment: no NODE_OPTIONS or extra CA bundle from the test runner. */
function run(cmd: string, args: string[], env: Record<string, string>, stdin: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { env: { PATH: "/usr/bin:/bin", ...env }, input: stdin, encoding: "utf8", timeout: 20_000 });
}
const runPlugin = (env: Record<string, string>, stdin: string) => run(process.execPath, [plugin], env, stdin);

const add = { CNI_COMMAND: "ADD", CNI_CONTAINERID: "c0ffee", CNI_NETNS: "/var/run/netns/x", CNI_IFNAME: "eth0", CNI_PATH: "/opt/cni/bin", CNI_ARGS: K8S_ARGS };

/** stdout must be exactly one JSON error object, and the exit code non-zero. */
function cniErrorOf(res: SpawnSyncReturns<string>): { cniVersion: string; code: number; msg: string; details?: string } {
  expect(res.status).toBe(1);
  expect(res.stdout.trim().split("\n")).toHaveLength(1);
  return JSON.parse(res.stdout) as { cniVersion: string; code: number; msg: string; details?: string };
}

describe("the bundled plugin", () => {
  it("is one CommonJS file that loads node: built-ins only", () => {
    const text = readFileSync(plugin, "utf8");
    expect(text.startsWith("#!/usr/bin/env node\n")).toBe(true);
    const required = [...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(required.length).toBeGreaterThan(0);
    expect(required.filter((name) => !name?.startsWith("node:"))).toEqual([]);
    expect(text).not.toMatch(/\bimport\s*\(/);
  });

  it.each([
    ["stdin that is not JSON", 6, add, "{"],
    ["no CNI_COMMAND", 4, { ...add, CNI_COMMAND: "" }, netconf()],
    ["an unknown command", 4, { ...add, CNI_COMMAND: "FOO" }, netconf()],
    ["ADD without CNI_IFNAME", 4, { ...add, CNI_IFNAME: "" }, netconf()],
    ["ADD without the Pod in CNI_ARGS", 4, { ...add, CNI_ARGS: "IgnoreUnknown=1" }, netconf()],
    ["no ipam", 7, add, JSON.stringify({ cniVersion: "1.0.0", name: "n" })],
    ["ipam.type host-local", 7, add, netconf({}, { type: "host-local" })],
    ["cniVersion 0.2.0", 1, add, netconf({ cniVersion: "0.2.0" })],
    ["STATUS at 1.0.0", 1, { CNI_COMMAND: "STATUS" }, netconf()],
    ["GC at 0.4.0", 1, { CNI_COMMAND: "GC" }, netconf({ cniVersion: "0.4.0", "cni.dev/valid-attachments": [] })],
  ])("%s: exit 1, code %i", (_what, code, env, stdin) => {
    const res = runPlugin(env, stdin);
    expect(cniErrorOf(res).code).toBe(code);
    expect(res.stderr).toContain(`"code":${code}`);
  });

  it("answers VERSION with the requested version and every supported one", () => {
    const res = runPlugin({ CNI_COMMAND: "VERSION" }, '{"cniVersion":"0.3.1"}');
    expect(res.status).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ cniVersion: "0.3.1", supportedVersions: ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"] });
  });

  describe("with no agent listening", () => {
    let sockDir: string;
    let sock: string;
    beforeAll(() => {
      sockDir = mkdtempSync(join(tmpdir(), "cni-sock-"));
      sock = join(sockDir, "spiderpool.sock");
    });
    afterAll(() => rmSync(sockDir, { recursive: true, force: true }));

    it("ADD fails with 11, names the socket path, and echoes the config's version", () => {
      const err = cniErrorOf(runPlugin(add, netconf({ cniVersion: "0.3.1" }, { ipam_unix_socket_path: sock })));
      expect(err).toMatchObject({ cniVersion: "0.3.1", code: 11 });
      expect(err.msg).toContain(sock);
    });

    it("DEL fails with 11 so the runtime retries it", () => {
      expect(cniErrorOf(runPlugin({ ...add, CNI_COMMAND: "DEL", CNI_NETNS: "" }, netconf({}, { ipam_unix_socket_path: sock }))).code).toBe(11);
    });

    it("STATUS answers 50", () => {
      const err = cniErrorOf(runPlugin({ CNI_COMMAND: "STATUS" }, netconf({ cniVersion: "1.1.0" }, { ipam_unix_socket_path: sock })));
      expect(err.code).toBe(50);
      expect(err.msg).toContain(sock);
    });

    it("appends to log_file_path", () => {
      const log = join(sockDir, "logs", "spiderpool.log");
      // The host's log directory (cni/log-dir.ts): the settings file the runtime's environment names.
      const settings = join(sockDir, "host.json");
      writeFileSync(settings, JSON.stringify({ log_dir: join(sockDir, "logs") }));
      runPlugin({ ...add, SPIDERPOOL_CNI_HOST_SETTINGS: settings }, netconf({}, { ipam_unix_socket_path: sock, log_file_path: log }));
      expect(readFileSync(log, "utf8")).toMatch(/"level":"error".*"code":11/);
    });
  });
});

/** A PATH with no node on it; `sh -c 'command -v node'` proves it. */
function nodelessPath(): string {
  const dir = join(out, "empty-path");
  mkdirSync(dir, { recursive: true });
  const probe = spawnSync("/bin/sh", ["-c", "command -v node"], { env: { PATH: dir }, encoding: "utf8" });
  expect(probe.status).not.toBe(0);
  return dir;
}

/** The agent client (node:net, loaded lazily) works inside the artifact too. */
function expectUnreachableAgent(host: string): void {
  const sock = join(out, "nobody-listens.sock");
  const err = cniErrorOf(run(host, [], { PATH: nodelessPath(), ...add }, netconf({}, { ipam_unix_socket_path: sock })));
  expect(err.code).toBe(11);
  expect(err.msg).toContain(sock);
}

/** The artifact holds the chained coordinator too, as runnable as the IPAM plugin. */
function expectCoordinatorRuns(host: string): void {
  const version = run(host, [], { PATH: nodelessPath(), CNI_COMMAND: "VERSION" }, "");
  expect(JSON.parse(version.stdout)).toMatchObject({ supportedVersions: expect.arrayContaining(["1.1.0"]) });
  const refused = run(host, [], { PATH: nodelessPath(), ...add }, JSON.stringify({ cniVersion: "1.0.0", name: "n", type: "coordinator" }));
  expect(cniErrorOf(refused).code).toBe(7);
}

/**
 * postject, as scripts/bundle.mjs looks for it. It is a devDependency, so its absence is a
 * broken checkout, not a reason to skip: the single executable is the default artifact.
 */
function requirePostject(): void {
  const candidate = process.env.POSTJECT ?? join(root, "node_modules/.bin/postject");
  if (!existsSync(candidate)) {
    throw new Error(`postject is missing (looked for ${candidate}); it is a devDependency: run npm ci, or set POSTJECT to postject's cli.js`);
  }
}

/** Bun, as scripts/bundle.mjs looks for it: a devDependency (npm @oven/bun-linux-x64), the default artifact's compiler. */
function requireBun(): void {
  const candidate = process.env.BUN ?? join(root, "node_modules/@oven/bun-linux-x64/bin/bun");
  if (!existsSync(candidate)) {
    throw new Error(`bun is missing (looked for ${candidate}); @oven/bun-linux-x64 is a devDependency: run npm ci, or set BUN to a bun binary`);
  }
}

describe("the host artifact, on a PATH without node", () => {
  it("the plain bundle cannot run there (the control for the two tests below)", () => {
    const res = run(plugin, [], { PATH: nodelessPath(), CNI_COMMAND: "VERSION" }, "");
    expect(res.status).toBe(127);
  });

  it("launcher: a private Node beside the plugin, NODE_OPTIONS ignored", () => {
    bundle("--host=launcher");
    const host = join(out, "cni/host/spiderpool");
    const res = run(host, [], { PATH: nodelessPath(), CNI_COMMAND: "VERSION", NODE_OPTIONS: "--require=/nonexistent" }, "");
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ cniVersion: "1.1.0" });
    const refused = run(host, [], { PATH: nodelessPath(), ...add }, "{");
    expect(cniErrorOf(refused).code).toBe(6);
    expectUnreachableAgent(host);
    expectCoordinatorRuns(join(out, "cni/host/coordinator"));
  }, 60_000);

  it("Bun-compiled executable (the default), NODE_OPTIONS and a .env in the working directory ignored", () => {
    requireBun();
    bundle("--host=bun");
    const host = join(out, "cni/host/spiderpool");
    const cwd = mkdtempSync(join(out, "cwd-"));
    writeFileSync(join(cwd, ".env"), "CNI_COMMAND=VERSION\n");
    writeFileSync(join(cwd, "bunfig.toml"), 'preload = ["/nonexistent.ts"]\n');
    const inCwd = (env: Record<string, string>, stdin: string) => spawnSync(host, [], { cwd, env: { PATH: nodelessPath(), ...env }, input: stdin, encoding: "utf8", timeout: 20_000 });
    const res = inCwd({ CNI_COMMAND: "VERSION", NODE_OPTIONS: "--require=/nonexistent" }, '{"cniVersion":"0.4.0"}');
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ cniVersion: "0.4.0" });
    // The .env would make this a VERSION call: the plugin must see only the runtime's environment.
    expect(cniErrorOf(inCwd({}, "")).code).toBe(4);
    const refused = run(host, [], { PATH: nodelessPath(), ...add }, netconf({}, { type: "host-local" }));
    expect(cniErrorOf(refused).code).toBe(7);
    expectUnreachableAgent(host);
  }, 120_000);

  it("single executable application (built with postject)", () => {
    requirePostject();
    bundle("--host=sea");
    const host = join(out, "cni/host/spiderpool");
    const res = run(host, [], { PATH: nodelessPath(), CNI_COMMAND: "VERSION" }, '{"cniVersion":"1.0.0"}');
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ cniVersion: "1.0.0" });
    const refused = run(host, [], { PATH: nodelessPath(), ...add }, netconf({}, { type: "host-local" }));
    expect(cniErrorOf(refused).code).toBe(7);
    expectUnreachableAgent(host);
    expectCoordinatorRuns(join(out, "cni/host/coordinator"));
  }, 120_000);
});
