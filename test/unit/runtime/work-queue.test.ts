import { describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import { ConflictError } from "../../../ipam/ports.js";
import { RecordingLog } from "../../fakes/log.js";
import { WorkQueue } from "../../../runtime/work-queue.js";

const log = pino({ level: "silent" });

describe("WorkQueue", () => {
  it("processes a key queued many times once, and again if it changed while processing", async () => {
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new WorkQueue("t", async (key) => {
      seen.push(key);
      if (seen.length === 1) await gate;
    }, log);
    q.add("a");
    q.add("b");
    q.add("b");
    q.add("a"); // "a" is being processed: it comes back once more afterwards
    q.add("a");
    release();
    await q.idle();
    expect(seen).toEqual(["a", "b", "a"]);
  });

  it("retries a failing key with backoff until it succeeds", async () => {
    let calls = 0;
    const q = new WorkQueue("t", async () => {
      if (++calls < 3) throw new Error("conflict");
    }, log, 1, { baseMs: 5, maxMs: 5, jitter: false });
    q.add("x");
    await new Promise((r) => setTimeout(r, 500));
    await q.idle();
    expect(calls).toBe(3);
    q.stop();
  });

  it("logs a lost compare-and-swap at debug, any other failure as a warning", async () => {
    const rec = new RecordingLog();
    const errors = [new ConflictError("stale resourceVersion"), new Error("apiserver unreachable")];
    const q = new WorkQueue("t", async () => {
      const e = errors.shift();
      if (e) throw e;
    }, rec, 1, { baseMs: 1, maxMs: 1, jitter: false });
    q.add("x");
    await new Promise((r) => setTimeout(r, 50));
    await q.idle();
    expect(rec.at("debug").map((l) => l.message)).toEqual(["reconcile lost a compare-and-swap; retrying"]);
    expect(rec.at("warn").map((l) => l.message)).toEqual(["reconcile failed; retrying"]);
    q.stop();
  });
});
