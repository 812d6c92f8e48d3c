import { build } from "esbuild";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { CONTROLLER_NODE_FLAGS } from "../webhook/node-flags.js";
import { REPO_ROOT } from "./binaries.js";

/** A local controller running as a child process (local-cluster/controller-main.ts). */
export interface ControllerProcess {
  pid: number;
  /** The webhook server's port (admission only). */
  port: number;
  /** The port of /metrics, /healthz and /readyz (plain HTTP). */
  metricsPort: number;
  /** Label objects with this to put them under this controller's webhooks. */
  labels: Record<string, string>;
  namespace: string;
  /** The process's peak resident memory so far (VmHWM), in bytes. */
  peakRss(): number;
  /** Stops it (SIGTERM: it removes its webhooks and namespace first). */
  stop(): Promise<void>;
}

/** VmHWM of /proc/<pid>/status: the peak resident set of a process, in bytes. */
export function peakRssOf(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? NaN) * 1024;
}

/**
 * controller-main.ts bundled as the controller ships (scripts/bundle.mjs: one ESM file,
 * packages external), so that its memory is not tsx's compiler's.
 */
async function bundledMain(): Promise<string> {
  const outfile = join(REPO_ROOT, "dist", "local-cluster", "controller-main.mjs");
  await build({ entryPoints: [join(REPO_ROOT, "local-cluster/controller-main.ts")], outfile, bundle: true, platform: "node", target: "node20", format: "esm", packages: "external", logLevel: "warning" });
  return outfile;
}

/** Starts a local controller in a process of its own, with the Node flags the chart runs it with, against the cluster of `kubeconfig`; resolves once it serves. */
export async function spawnController(kubeconfig: string, prefix: string, settings: Record<string, string> = {}, clusterConfig?: string): Promise<ControllerProcess> {
  const child = spawn(process.execPath, [...CONTROLLER_NODE_FLAGS, await bundledMain(), kubeconfig, prefix, JSON.stringify(settings), ...(clusterConfig ? [clusterConfig] : [])], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const first = await firstLine(child);
  if (first === undefined) throw new Error(`the controller process exited before serving: ${stderr}`);
  const info = JSON.parse(first) as { port: number; metricsPort: number; labels: Record<string, string>; namespace: string };
  const pid = child.pid ?? 0;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    pid,
    ...info,
    peakRss: () => peakRssOf(pid),
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** The first line the child prints, or undefined when it exits first. */
function firstLine(child: ChildProcess): Promise<string | undefined> {
  return new Promise((resolve) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (l) => resolve(l));
    child.once("exit", () => resolve(undefined));
  });
}
