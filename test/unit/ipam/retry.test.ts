import { describe, expect, it } from "@jest/globals";
import { backoffDelay, poll, retry } from "../../../ipam/retry.js";
import { FakeClock } from "../../fakes/clock.js";

class Transient extends Error {}

describe("retry", () => {
  const policy = { attempts: 5, baseMs: 10, maxMs: 50, jitter: false };

  it("doubles the delay up to the cap; full jitter stays within it", () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, policy))).toEqual([10, 20, 40, 50, 50]);
    expect(backoffDelay(3, { ...policy, jitter: true }, () => 0.5)).toBe(20);
    expect(backoffDelay(3, { ...policy, jitter: true }, () => 0)).toBe(0);
  });

  it("tries again on a retryable error and returns the first success", async () => {
    const clock = new FakeClock();
    let calls = 0;
    const seen: number[] = [];
    const v = await retry(async (n) => {
      seen.push(n);
      if (++calls < 3) throw new Transient("again");
      return "done";
    }, { policy, clock, retryable: (e) => e instanceof Transient });
    expect(v).toBe("done");
    expect(seen).toEqual([1, 2, 3]);
    expect(clock.slept).toEqual([10, 20]);
  });

  it("throws a non-retryable error at once, and the last error when attempts run out", async () => {
    const clock = new FakeClock();
    await expect(retry(() => Promise.reject(new Error("bad input")), { policy, clock, retryable: (e) => e instanceof Transient })).rejects.toThrow("bad input");
    expect(clock.slept).toEqual([]);
    let n = 0;
    await expect(retry(() => Promise.reject(new Transient(`try ${++n}`)), { policy, clock, retryable: () => true })).rejects.toThrow("try 5");
    expect(clock.slept).toEqual([10, 20, 40, 50]);
  });

  it("stops before a wait that would cross the deadline", async () => {
    const clock = new FakeClock();
    await expect(retry(() => Promise.reject(new Transient("slow")), { policy: { ...policy, attempts: 100, deadlineMs: 65 }, clock, retryable: () => true })).rejects.toThrow("slow");
    expect(clock.slept).toEqual([10, 20]); // a third wait (40) would end at 70 ms, past the 65 ms deadline
  });

  it("polls until a value appears, or gives undefined at the deadline", async () => {
    const clock = new FakeClock();
    let looks = 0;
    expect(await poll(() => Promise.resolve(++looks >= 3 ? "here" : undefined), { ...policy, attempts: 100 }, clock)).toBe("here");
    expect(await poll(() => Promise.resolve(undefined), { attempts: 100, baseMs: 100, maxMs: 100, jitter: false, deadlineMs: 450 }, clock)).toBeUndefined();
    await expect(poll(() => Promise.reject(new Error("broken")), { ...policy, attempts: 100 }, clock)).rejects.toThrow("broken");
  });
});
