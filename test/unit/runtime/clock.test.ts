import { describe, expect, it } from "@jest/globals";
import { systemClock } from "../../../runtime/clock.js";

describe("systemClock.sleep", () => {
  it("waits the time it was asked for", async () => {
    const t0 = Date.now();
    await systemClock.sleep(30);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
  });

  it("ends a long wait when its signal aborts, and leaves no timer holding the process", async () => {
    const stop = new AbortController();
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    const waited = systemClock.sleep(600_000, stop.signal);
    expect(timers()).toBe(before + 1);
    stop.abort();
    await expect(waited).resolves.toBeUndefined();
    expect(timers()).toBe(before);
  });

  it("returns at once for a signal already aborted", async () => {
    const stop = new AbortController();
    stop.abort();
    await expect(systemClock.sleep(600_000, stop.signal)).resolves.toBeUndefined();
  });
});
