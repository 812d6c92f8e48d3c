import { describe, expect, it } from "@jest/globals";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import { FakeClock } from "../../fakes/clock.js";
import { FakeStore } from "../../fakes/store.js";
import { pool, reservation, writerOver } from "./fixtures.js";

/** A clock whose sleeps end only when the test says so. */
class HeldClock extends FakeClock {
  readonly timers: (() => void)[] = [];

  override sleep(ms: number): Promise<void> {
    this.slept.push(ms);
    return new Promise((resolve) => this.timers.push(resolve));
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A bind (pending -> held) hands out and frees nothing, so it may wait a moment for another
 * write of its pool to ride on: during a burst of admissions the binds cost no write of their own.
 */
describe("PoolWriter and binds", () => {
  const setup = () => {
    const store = new FakeStore<SpiderIPPool>();
    store.seed(pool("p", { ips: ["10.6.0.10-10.6.0.19"] }));
    const clock = new HeldClock();
    return { store, ...writerOver(store, { clock, bindDelayMs: 500 }), clock };
  };

  it("carries a waiting bind in the next admission's write", async () => {
    const { writer, clock, batches } = setup();
    expect((await writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("r1", clock) })).ok).toBe(true);
    const bound = writer.submit("p", { kind: "bind", reservation: "r1" });
    await settle();
    expect(batches).toEqual([1]);
    expect(clock.slept).toEqual([500]);
    const next = await writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("r2", clock) });
    expect(next.ok).toBe(true);
    expect(await bound).toMatchObject({ ok: true, kind: "bind", found: true });
    // One write carried both; the bind's timer, when it ends, finds nothing left to write.
    expect(batches).toEqual([1, 2]);
    clock.timers.forEach((end) => end());
    await settle();
    expect(batches).toEqual([1, 2]);
  });

  it("writes a bind alone once its wait is over", async () => {
    const { writer, clock, batches } = setup();
    await writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("r1", clock) });
    const bound = writer.submit("p", { kind: "bind", reservation: "r1" });
    const second = writer.submit("p", { kind: "bind", reservation: "r1" });
    await settle();
    expect(batches).toEqual([1]);
    // One timer for the pool, however many binds wait.
    expect(clock.timers).toHaveLength(1);
    clock.timers[0]?.();
    expect(await bound).toMatchObject({ ok: true, kind: "bind", found: true });
    await second;
    expect(batches).toEqual([1, 2]);
  });

  it("writes a bind at once when no wait is configured", async () => {
    const store = new FakeStore<SpiderIPPool>();
    store.seed(pool("p"));
    const { writer, clock, batches } = writerOver(store);
    await writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("r1", clock) });
    expect(await writer.submit("p", { kind: "bind", reservation: "r1" })).toMatchObject({ ok: true, found: true });
    expect(batches).toEqual([1, 1]);
  });
});
