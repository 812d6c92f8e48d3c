import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { clusterDir, stopCluster } from "./cluster.js";
import { delNetns, ip } from "./netns.js";
import { alive, processesOf, stopPids } from "./processes.js";
import { SYSTEM_PROCESS, systemId } from "./system.js";

/** What a local system named `name` still has on this machine: processes, network namespaces, links, its state directory. */
export interface Leftovers {
  processes: number[];
  netns: string[];
  links: string[];
  dir?: string;
}

async function namespacesOf(id: string): Promise<string[]> {
  const out = await ip("netns", "list").catch(() => "");
  return out.split("\n").map((l) => l.split(" ")[0] ?? "").filter((n) => n.startsWith(id) || n === `spu-${id}`);
}

async function linksOf(id: string): Promise<string[]> {
  const out = await ip("-o", "link", "show").catch(() => "");
  // "12: splab12ah@if11: <...>": the name up to the "@" of a veth.
  return out.split("\n").map((l) => (l.split(": ")[1] ?? "").split("@")[0] ?? "").filter((n) => n.startsWith(id));
}

export async function leftovers(name: string): Promise<Leftovers> {
  const dir = clusterDir(name);
  const id = systemId(name);
  return { processes: processesOf(dir), netns: await namespacesOf(id), links: await linksOf(id), ...(existsSync(dir) ? { dir } : {}) };
}

/**
 * Stops a local system and its control plane and removes what they made: first the system
 * process (SIGTERM: it deletes its nodes' namespaces and links while the apiserver still
 * answers; SIGKILL after 30 s), then every process of the control plane and the state
 * directory, then whatever namespace or link of this system is still there (a run killed
 * with SIGKILL). Returns what it had to sweep by hand.
 */
export async function stopLocalSystem(name: string): Promise<{ swept: string[] }> {
  const dir = clusterDir(name);
  const pidFile = join(dir, "pids", `${SYSTEM_PROCESS}.pid`);
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    if (pid > 0 && alive(pid) && processesOf(dir).includes(pid)) await stopPids([pid], 30_000);
  }
  await stopCluster(dir);
  const id = systemId(name);
  const swept: string[] = [];
  for (const ns of await namespacesOf(id)) {
    await delNetns(ns);
    swept.push(`netns ${ns}`);
  }
  for (const link of await linksOf(id)) {
    await ip("link", "del", link).catch(() => undefined);
    swept.push(`link ${link}`);
  }
  return { swept };
}
