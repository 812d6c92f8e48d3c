import { describe, expect, it } from "@jest/globals";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import { FakeStore } from "../../fakes/store.js";
import { heldIn, pool, reservation, writerOver } from "./fixtures.js";

/**
 * Regression (issue 10): a writer whose cached pool is older than another replica's write
 * answered a release or a bind from the stale copy ("not held", "no such reservation")
 * without writing and without reading again; the caller then dropped its record and the
 * address stayed held for good.
 */
describe("PoolWriter with a cache behind another replica's write", () => {
  async function setup() {
    const store = new FakeStore<SpiderIPPool>();
    store.seed(pool("p"));
    const before = store.peek("p") as SpiderIPPool;
    // Another replica allocates 10.6.0.10 for reservation r1; this writer's cache still shows the pool before that.
    const other = writerOver(store);
    const got = await other.writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("r1", other.clock) });
    if (!got.ok || got.kind !== "allocate") throw new Error("allocation failed");
    const mine = writerOver(store, { cached: () => before });
    return { store, mine, allocation: got.allocation };
  }

  it("releases an address the stale copy does not show as held", async () => {
    const t = await setup();
    const answer = await t.mine.writer.submit("p", { kind: "release", address: t.allocation.address, token: t.allocation.token });
    expect(answer).toMatchObject({ ok: true, kind: "release", outcome: "released" });
    expect(heldIn(t.store, "p")).toEqual([]);
  });

  it("binds a reservation the stale copy does not know", async () => {
    const t = await setup();
    const answer = await t.mine.writer.submit("p", { kind: "bind", reservation: "r1" });
    expect(answer).toMatchObject({ ok: true, kind: "bind", found: true });
    expect(t.store.peek("p")?.status?.allocations).not.toContain("r1");
  });

  it("does not hand a repeat the address its stale copy still shows for a reservation since released", async () => {
    const t = await setup();
    const { writer, clock } = t.mine;
    // r1 is released and its address goes to r2, all by the other replica; the cache saw r1 holding it.
    const stale = t.store.peek("p") as SpiderIPPool;
    const other = writerOver(t.store);
    await other.writer.submit("p", { kind: "release-reservation", reservation: "r1" });
    await other.writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("r2", other.clock) });
    const repeat = writerOver(t.store, { cached: () => stale, clock });
    const answer = await repeat.writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("r1", clock) });
    expect(answer.ok && answer.kind === "allocate" && answer.allocation.address).not.toBe(t.allocation.address);
    void writer;
  });
});
