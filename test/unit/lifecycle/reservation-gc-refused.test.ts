import { describe, expect, it } from "@jest/globals";
import { formatAssignedIPs } from "../../../ipam/annotations/assigned.js";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import type { PodLike } from "../../../ipam/kinds/pod.js";
import { collectExpiredReservations, type ReservationGcDeps } from "../../../ipam/lifecycle/reservation-gc.js";
import { reservationId } from "../../../ipam/lifecycle/reservation-id.js";
import { FakeStore } from "../../fakes/store.js";
import { heldIn, pool, writerOver } from "./fixtures.js";

const TTL = 60_000;
const GRACE = 5_000;

/**
 * Issue 13: a Pod refused after the webhook (quota, policy, a name taken) held its
 * reservation for the whole lifetime. After a short grace a live read decides: no Pod
 * carries it, it is released; a Pod does, it is bound, never released.
 */
describe("collectExpiredReservations for Pods never created", () => {
  async function setup(owner?: string) {
    const pools = new FakeStore<SpiderIPPool>();
    pools.seed(pool("p"));
    const w = writerOver(pools);
    await w.writer.submit("p", { kind: "allocate", interface: "eth0", reservation: { id: "r1", ...(owner ? { owner } : {}), expiresAt: w.clock.now() + TTL } });
    const bound: string[] = [];
    const gets: string[] = [];
    let pods: PodLike[] = [];
    const deps: ReservationGcDeps = {
      pools: pools.cache(),
      podWithReservation: () => undefined,
      livePodsByReservation: () => Promise.resolve(new Map()),
      livePod: (ns, name) => {
        gets.push(`${ns}/${name}`);
        return Promise.resolve(pods.find((p) => p.metadata.namespace === ns && p.metadata.name === name));
      },
      refused: { graceMs: GRACE, ttlMs: TTL },
      bind: (key) => bound.push(key),
      allocator: w.writer,
      clock: w.clock,
      log: w.log,
    };
    return { pools, deps, bound, gets, clock: w.clock, setPods: (p: PodLike[]) => (pods = p) };
  }

  const podWith = (reservation: string): PodLike => ({
    metadata: { namespace: "app", name: "web", uid: "u", annotations: { "ipam.spidernet.io/assigned-ips": formatAssignedIPs({ reservation, ips: [{ interface: "eth0", ipv4: "10.6.0.10/24", ipv4Pool: "p" }] }) } },
  });

  it("leaves a reservation alone within the grace, and releases it once a GET finds no Pod of that name", async () => {
    const t = await setup("app/web");
    t.clock.advance(GRACE - 1);
    expect(await collectExpiredReservations(t.deps)).toBe(0);
    expect(t.gets).toEqual([]);
    t.clock.advance(1);
    expect(await collectExpiredReservations(t.deps)).toBe(1);
    expect(t.gets).toEqual(["app/web"]);
    expect(heldIn(t.pools, "p")).toEqual([]);
  });

  it("binds, never releases, when the Pod of that name carries the reservation", async () => {
    const t = await setup("app/web");
    t.setPods([podWith("r1")]);
    t.clock.advance(GRACE);
    expect(await collectExpiredReservations(t.deps)).toBe(0);
    expect(t.bound).toEqual(["app/web"]);
    expect(heldIn(t.pools, "p")).toEqual(["10.6.0.10"]);
  });

  it("releases when the Pod of that name holds another reservation (this creation was refused: the name was taken)", async () => {
    const t = await setup("app/web");
    t.setPods([podWith("someone-else")]);
    t.clock.advance(GRACE);
    expect(await collectExpiredReservations(t.deps)).toBe(1);
  });

  it("does not GET a Pod for an owner without a namespace (a review written by hand), and still decides by the live list", async () => {
    const t = await setup("/web");
    t.clock.advance(GRACE);
    // As the apiserver answers a GET without a namespace: 400, which failed the whole pass.
    const strict = { ...t.deps, livePod: (ns: string, name: string) => (ns ? t.deps.livePod!(ns, name) : Promise.reject(new Error("Namespace parameter required."))) };
    expect(await collectExpiredReservations(strict)).toBe(1);
    expect(t.gets).toEqual([]);
    expect(heldIn(t.pools, "p")).toEqual([]);
  });

  it("asks the live list for a generateName Pod's reservation", async () => {
    const t = await setup();
    t.clock.advance(GRACE);
    const found = { ...t.deps, livePodsByReservation: () => Promise.resolve(new Map([["r1", "app/web-x1"]])) };
    expect(await collectExpiredReservations(found)).toBe(0);
    expect(t.bound).toEqual(["app/web-x1"]);
    expect(await collectExpiredReservations(t.deps)).toBe(1);
  });

  it("leaves a reservation made ahead (stock) alone until it expires, however old: only then does a live read decide", async () => {
    const t = await setup();
    const id = reservationId("stock", "replica-a/0");
    await t.deps.allocator.submit("p", { kind: "allocate", interface: "eth0", reservation: { id, expiresAt: t.clock.now() + TTL } });
    t.clock.advance(TTL - 1);
    // r1 (an admission's) goes after the grace; the stocked one stays, it may be handed out yet.
    expect(await collectExpiredReservations(t.deps)).toBe(1);
    expect(heldIn(t.pools, "p")).toEqual(["10.6.0.11"]);
    t.clock.advance(1);
    expect(await collectExpiredReservations(t.deps)).toBe(1);
    expect(heldIn(t.pools, "p")).toEqual([]);
  });
});
