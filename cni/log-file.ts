/**
 * The log-file sink: append, rotating by size (`log_file_max_size` MiB, keeping
 * `log_file_max_count` old files, at least one, as .1 … .N). A log file that cannot be written never
 * fails the CNI command: the sink reports once on stderr and goes quiet.
 */
import { appendFileSync, closeSync, constants, mkdirSync, openSync, renameSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { LogSink } from "./log.js";

export interface LogFileOptions {
  path: string;
  maxSizeMiB: number;
  maxCount: number;
  /** Where to say that the file could not be written (stderr in the binary). */
  onFailure: (line: string) => void;
  /** Open the file without following a symlink at its name (a confined log file, cni/log-dir.ts). */
  noFollow?: boolean;
}

const NO_FOLLOW_APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

export function logFileSink(opts: LogFileOptions): LogSink {
  let broken = false;
  let checked = false;
  return (line) => {
    if (broken) return;
    try {
      if (!checked) {
        checked = true;
        mkdirSync(dirname(opts.path), { recursive: true });
        rotateIfLarge(opts);
      }
      if (opts.noFollow) appendNoFollow(opts.path, line);
      else appendFileSync(opts.path, line);
    } catch (err) {
      broken = true;
      const why = err instanceof Error ? err.message : String(err);
      opts.onFailure(JSON.stringify({ level: "warn", time: new Date().toISOString(), msg: `cannot write log file ${opts.path}: ${why}` }) + "\n");
    }
  };
}

function appendNoFollow(path: string, line: string): void {
  const fd = openSync(path, NO_FOLLOW_APPEND, 0o640);
  try {
    writeSync(fd, line);
  } finally {
    closeSync(fd);
  }
}

/** Checked once per run: a plugin run writes a few lines, so the file overshoots by little. */
export function rotateIfLarge(opts: Pick<LogFileOptions, "path" | "maxSizeMiB" | "maxCount">): boolean {
  if (opts.maxSizeMiB <= 0) return false;
  let size: number;
  try {
    size = statSync(opts.path).size;
  } catch {
    return false;
  }
  if (size < opts.maxSizeMiB * 1024 * 1024) return false;
  const keep = Math.max(1, opts.maxCount);
  // Another plugin run may be rotating at the same moment: a vanished file is not an error.
  for (let i = keep; i >= 1; i--) {
    try {
      renameSync(i === 1 ? opts.path : `${opts.path}.${i - 1}`, `${opts.path}.${i}`);
    } catch {
      // a gap in the series is fine
    }
  }
  return true;
}
