/**
 * The process side of a plugin run, shared by both binaries: stdin read to its end, stdout
 * written whole, stderr lines that never throw. Pipes left non-blocking by the parent are
 * waited on rather than failed.
 */
import { fstatSync, readSync, writeSync } from "node:fs";

export const stderr = (line: string): void => {
  try {
    writeSync(2, line);
  } catch {
    // nowhere left to say it
  }
};

/** Reads fd 0 to its end, tolerating a non-blocking pipe left by the parent. */
export function readStdin(): string {
  // VERSION typed at a terminal has no config to wait for (node:tty would cost ~14 ms to load).
  if (process.env.CNI_COMMAND === "VERSION" && fstatSync(0).isCharacterDevice()) return "";
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(64 * 1024);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "EAGAIN") {
        Atomics.wait(pause, 0, 0, 5);
        continue;
      }
      if (code === "EOF") break;
      throw err;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function writeAll(fd: number, text: string): void {
  const data = Buffer.from(text, "utf8");
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off);
    } catch (err) {
      if ((err as { code?: string }).code !== "EAGAIN") throw err;
      Atomics.wait(pause, 0, 0, 5);
    }
  }
}

/**
 * Prints a run's outcome and exits with its code. A rejected run is a bug (runs turn every
 * failure into an outcome): it is printed as the plugin's internal error.
 */
export function exitWith(run: Promise<{ stdout: string; exitCode: number }>, internal: { code: number; msg: string }): void {
  run.then(
    (outcome) => {
      if (outcome.stdout !== "") writeAll(1, outcome.stdout);
      process.exit(outcome.exitCode);
    },
    (err: unknown) => {
      stderr(`${String(err)}\n`);
      writeAll(1, JSON.stringify({ cniVersion: "1.1.0", ...internal, details: String(err) }) + "\n");
      process.exit(1);
    },
  );
}
