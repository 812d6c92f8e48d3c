import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { poll } from "../ipam/retry.js";
import { systemClock } from "../runtime/clock.js";

/**
 * Background processes of the local control plane. Each writes a pid file under
 * `<stateDir>/pids` and a log under `<stateDir>/logs`; every command line carries the state
 * directory, which is how a later run recognises its stale processes even after the pid
 * has been reused by something else.
 */
export interface Managed {
  name: string;
  bin: string;
  pid: number;
  logFile: string;
}

export function startProcess(stateDir: string, name: string, bin: string, args: string[], env?: NodeJS.ProcessEnv): Managed {
  mkdirSync(join(stateDir, "pids"), { recursive: true });
  mkdirSync(join(stateDir, "logs"), { recursive: true });
  const logFile = join(stateDir, "logs", `${name}.log`);
  const fd = openSync(logFile, "a");
  // detached: the control plane outlives `npm run cluster:up`; a killed test run leaves
  // it behind, and the next run's cleanStale() removes it.
  const child = spawn(bin, args, { detached: true, stdio: ["ignore", fd, fd], env: env ?? process.env });
  closeSync(fd);
  child.unref();
  if (child.pid === undefined) throw new Error(`${name} (${bin}) did not start; see ${logFile}`);
  writeFileSync(join(stateDir, "pids", `${name}.pid`), String(child.pid));
  return { name, bin, pid: child.pid, logFile };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
}

/**
 * Pids of live processes whose command line names a file inside `stateDir`. Matching
 * "<dir>/" rather than "<dir>" keeps cluster "test" from claiming cluster "test-42"'s processes.
 */
export function processesOf(stateDir: string): number[] {
  const inside = `${stateDir.replace(/\/+$/, "")}/`;
  const found = new Set<number>();
  const pidDir = join(stateDir, "pids");
  if (existsSync(pidDir)) {
    for (const f of readdirSync(pidDir)) {
      const pid = Number(readFileSync(join(pidDir, f), "utf8").trim());
      if (pid > 0 && cmdline(pid).includes(inside)) found.add(pid);
    }
  }
  // Pid files can be lost (a run killed while writing them): scan /proc as well.
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (pid > 0 && pid !== process.pid && cmdline(pid).includes(inside)) found.add(pid);
  }
  return [...found];
}

/** Stops processes: SIGTERM, then SIGKILL for whatever is still there after `graceMs`. */
export async function stopPids(pids: number[], graceMs = 5000): Promise<void> {
  const gone = (): Promise<true | undefined> => Promise.resolve(pids.some(alive) ? undefined : true);
  for (const pid of pids) signal(pid, "SIGTERM");
  await poll(gone, { attempts: Number.MAX_SAFE_INTEGER, baseMs: 50, maxMs: 50, jitter: false, deadlineMs: graceMs }, systemClock);
  for (const pid of pids.filter(alive)) signal(pid, "SIGKILL");
  await poll(gone, { attempts: Number.MAX_SAFE_INTEGER, baseMs: 20, maxMs: 20, jitter: false }, systemClock);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Removes whatever an earlier, possibly killed, run left under `stateDir`. Returns what it killed. */
export async function cleanStale(stateDir: string): Promise<number[]> {
  const pids = processesOf(stateDir);
  await stopPids(pids);
  rmSync(stateDir, { recursive: true, force: true });
  return pids;
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * Polls `probe` until it resolves true. Fails with the component, its log file and the
 * log's last lines when the process dies or the time runs out.
 */
export async function waitReady(proc: Managed, what: string, probe: () => Promise<boolean>, timeoutMs = 90000): Promise<void> {
  const ready = await poll(
    async () => {
      if (!alive(proc.pid)) throw new Error(`${proc.name} (${proc.bin}) exited before ${what}; log ${proc.logFile}:\n${tail(proc.logFile)}`);
      return (await probe().catch(() => false)) || undefined;
    },
    { attempts: Number.MAX_SAFE_INTEGER, baseMs: 200, maxMs: 200, jitter: false, deadlineMs: timeoutMs },
    systemClock,
  );
  if (ready) return;
  throw new Error(`${proc.name} (${proc.bin}) did not answer ${what} within ${timeoutMs / 1000}s; log ${proc.logFile}:\n${tail(proc.logFile)}`);
}
