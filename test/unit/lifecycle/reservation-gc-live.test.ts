import { describe, expect, it } from "@jest/globals";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import { collectExpiredReservations, type ReservationGcDeps } from "../../../ipam/lifecycle/reservation-gc.js";
import { FakeStore } from "../../fakes/store.js";
import { heldIn, pool, reservation, writerOver } from "./fixtures.js";

/**
 * Regression (issue 10): the collector of expired reservations asked only the leader's Pod
 * cache whether a Pod carries the reservation; a watch stale for longer than the lifetime
 * made it free the addresses of live Pods. The decision now rests on a live read.
 */
describe("collectExpiredReservations", () => {
  async function setup() {
    const pools = new FakeStore<SpiderIPPool>();
    pools.seed(pool("p"));
    const w = writerOver(pools);
    await w.writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("r1", w.clock) });
    w.clock.advance(120_000);
    return { pools, ...w };
  }

  it("binds, not releases, a reservation whose Pod the stale cache lacks but a live read finds", async () => {
    const t = await setup();
    const bound: string[] = [];
    let liveReads = 0;
    const deps = {
      pools: t.pools.cache(),
      podWithReservation: () => undefined,
      livePodsByReservation: () => {
        liveReads++;
        return Promise.resolve(new Map([["r1", "app/web-x"]]));
      },
      bind: (key: string) => bound.push(key),
      allocator: t.writer,
      clock: t.clock,
      log: t.log,
    } as ReservationGcDeps;
    expect(await collectExpiredReservations(deps)).toBe(0);
    expect(heldIn(t.pools, "p")).toEqual(["10.6.0.10"]);
    expect(bound).toEqual(["app/web-x"]);
    expect(liveReads).toBe(1);
  });

  it("releases it when the live read finds no Pod either", async () => {
    const t = await setup();
    const deps = {
      pools: t.pools.cache(),
      podWithReservation: () => undefined,
      livePodsByReservation: () => Promise.resolve(new Map<string, string>()),
      bind: () => undefined,
      allocator: t.writer,
      clock: t.clock,
      log: t.log,
    } as ReservationGcDeps;
    expect(await collectExpiredReservations(deps)).toBe(1);
    expect(heldIn(t.pools, "p")).toEqual([]);
  });
});
