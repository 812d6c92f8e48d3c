import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "./binaries.js";

const run = promisify(execFile);

export interface CniCall {
  command: "ADD" | "DEL" | "CHECK" | "VERSION" | "GC" | "STATUS";
  plugin: string;
  binDirs: readonly string[];
  config: object;
  /** Raw stdin instead of the JSON of `config` (for malformed input). */
  stdin?: string;
  containerID?: string;
  netns?: string;
  ifName?: string;
  args?: Record<string, string>;
  /** Replaces the whole environment (default: PATH is an empty directory, so no `node` to be found). */
  env?: NodeJS.ProcessEnv;
  /** Run the plugin inside this named network namespace (a simulated node's), as its runtime would. */
  hostNetns?: string;
}

export interface CniOutcome {
  code: number;
  stdout: string;
  json: Record<string, unknown> | undefined;
  stderr: string;
}

/**
 * A PATH with nothing on it. Hosts running the plugin have no Node.js: the tests call it
 * (directly, or from macvlan, which passes its environment on) without one either.
 */
export const PATH_WITHOUT_NODE = mkdtempSync(join(tmpdir(), "spiderpool-empty-path-"));

/** iproute2's `ip`, found once on this process's PATH. */
const IP_BIN = (process.env.PATH ?? "/usr/sbin:/sbin").split(":").map((d) => join(d, "ip")).find((p) => existsSync(p)) ?? "/usr/sbin/ip";

/** Runs a CNI plugin the way a container runtime does: env for the call, the config on stdin. */
export function cni(call: CniCall): Promise<CniOutcome> {
  const env: NodeJS.ProcessEnv = {
    ...(call.env ?? { PATH: PATH_WITHOUT_NODE }),
    CNI_COMMAND: call.command,
    CNI_PATH: call.binDirs.join(":"),
    ...(call.containerID ? { CNI_CONTAINERID: call.containerID } : {}),
    ...(call.netns ? { CNI_NETNS: call.netns } : {}),
    ...(call.ifName ? { CNI_IFNAME: call.ifName } : {}),
    ...(call.args ? { CNI_ARGS: Object.entries(call.args).map(([k, v]) => `${k}=${v}`).join(";") } : {}),
  };
  const bin = call.binDirs.map((d) => join(d, call.plugin)).find((p) => existsSync(p)) ?? call.plugin;
  // `ip netns exec` by absolute path: the plugin's PATH has nothing on it.
  const [file, args] = call.hostNetns ? [IP_BIN, ["netns", "exec", call.hostNetns, bin]] : [bin, []];
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, stdout, json, stderr });
    });
    child.stdin.end(call.stdin ?? JSON.stringify(call.config));
  });
}

let installed: Promise<string> | undefined;

/**
 * Builds the plugin's host artifact (scripts/bundle.mjs --host) and installs it with
 * scripts/install-cni.sh into a bin dir of its own, once per process: tests and benchmarks
 * run exactly what a node gets.
 */
export function installedCniBinDir(): Promise<string> {
  installed ??= (async () => {
    await run(process.execPath, [join(REPO_ROOT, "scripts/bundle.mjs"), "--only", "cni", "--host"], { cwd: REPO_ROOT, maxBuffer: 16 << 20 });
    const bin = mkdtempSync(join(tmpdir(), "spiderpool-cni-bin-"));
    await run("bash", [join(REPO_ROOT, "scripts/install-cni.sh"), "--bin-dir", bin], { cwd: REPO_ROOT });
    return bin;
  })();
  return installed;
}

/** Debian's containernetworking-plugins (macvlan, host-local, …). */
export const DEBIAN_CNI_DIR = "/usr/lib/cni";
