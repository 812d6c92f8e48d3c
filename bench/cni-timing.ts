// Timing of whole CNI plugin runs for the CNI benchmarks: one process from spawn to exit,
// one at a time or many at once, and the figures reported for them.
import { spawn } from "node:child_process";

export interface Run {
  cmd: string;
  env: NodeJS.ProcessEnv;
  stdin: string;
}

/** One run's wall time in ms; rejects (with its output) when it exits non-zero. */
export function timeRun(r: Run): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const child = spawn(r.cmd, [], { env: r.env });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - t) / 1e6) : reject(new Error(`${r.cmd} exited ${code}: ${out.slice(0, 600)}`))));
    child.stdin.end(r.stdin);
  });
}

/** Runs started together: each one's time, and the wall time until the last exited. */
export async function timeBurst(runs: readonly Run[]): Promise<{ each: number[]; wall: number }> {
  const t = process.hrtime.bigint();
  const each = await Promise.all(runs.map(timeRun));
  return { each, wall: Number(process.hrtime.bigint() - t) / 1e6 };
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

export const ms = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : "—");
export const ratio = (a: number, b: number): string => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : "—");

/** The samples of one command: one at a time, and in bursts (per-run times and the bursts' wall times). */
export class Samples {
  readonly alone: number[] = [];
  readonly burstEach: number[] = [];
  readonly burstWall: number[] = [];

  row(name: string): string {
    const cells = [ms(percentile(this.alone, 50)), ms(percentile(this.alone, 99)), ms(percentile(this.burstWall, 50)), ms(percentile(this.burstEach, 50)), ms(percentile(this.burstEach, 99))];
    return `| ${name} | ${cells.join(" | ")} |`;
  }
}

export const TABLE_HEAD = [
  "| command | alone p50 | alone p99 | burst wall p50 | in a burst p50 | in a burst p99 |",
  "| --- | --- | --- | --- | --- | --- |",
];
