import { describe, expect, it } from "@jest/globals";
import { formatIP } from "../../../ipam/address/ip.js";
import { decodeAllocations } from "../../../ipam/allocation/codec.js";
import { parseCIDR } from "../../../ipam/address/cidr.js";
import { holders } from "../../../ipam/allocation/state.js";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import { holdsStock, ReservationStock, type StockEvent, type StockItem, type StockOptions } from "../../../ipam/lifecycle/stock.js";
import { FakeStore } from "../../fakes/store.js";
import { reserveAddresses } from "../../../ipam/lifecycle/reserve.js";
import { heldIn, pool, reserveContext, writerOver } from "./fixtures.js";

const TTL = 60_000;
const MARGIN = 10_000;

/** What the stored pool holds pending, as "address=reservation". */
function pendingIn(store: FakeStore<SpiderIPPool>, name: string): string[] {
  const p = store.peek(name) as SpiderIPPool;
  const subnet = parseCIDR(p.spec.subnet);
  return [...holders(decodeAllocations(p.status?.allocations, subnet))].filter((h) => h.reservation).map((h) => `${formatIP(subnet.family, h.address)}=${h.reservation ?? ""}`);
}

function setup(o: Partial<StockOptions> = {}, pools: SpiderIPPool[] = [pool("p", { ips: ["10.6.0.1-10.6.0.100"] })]) {
  const store = new FakeStore<SpiderIPPool>();
  for (const p of pools) store.seed(p);
  const w = writerOver(store, { coolDownMs: 30_000 });
  const events: Partial<Record<StockEvent, number>> = {};
  const stock = new ReservationStock({
    allocator: w.writer,
    pools: store.cache(),
    clock: w.clock,
    ttlMs: TTL,
    marginMs: MARGIN,
    size: 8,
    idleMs: 5_000,
    log: w.log,
    instance: "test",
    onEvent: (e, n) => (events[e] = (events[e] ?? 0) + n),
    ...o,
  });
  return { store, stock, events, ...w };
}

const plan: StockItem[] = [{ nic: "eth0", family: 4, pool: "p" }];
/** Lets the background refill's writes finish. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

describe("ReservationStock: reservations made ahead of admissions", () => {
  it("misses first and stocks in the background; then hands out each reservation once, lowest address first, each pending in the pool under its own id", async () => {
    const t = setup();
    expect(t.stock.take(plan, "req-0")).toBeUndefined();
    await settle();
    expect(t.stock.count()).toBe(8);
    const before = t.batches.length;
    const taken = Array.from({ length: 4 }, (_, i) => t.stock.take(plan, `req-${i + 1}`));
    expect(taken.map((r) => formatIP(4, r?.addresses[0]?.allocation.address ?? 0n))).toEqual(["10.6.0.1", "10.6.0.2", "10.6.0.3", "10.6.0.4"]);
    expect(new Set(taken.map((r) => r?.id)).size).toBe(4);
    // Handing out wrote nothing; the refill after the fourth (half gone) does: its first
    // request goes alone, the pool writer batches the others behind it.
    expect(t.batches.length).toBe(before);
    await settle();
    expect(t.batches.slice(before)).toEqual([1, 3]);
    expect(t.stock.count()).toBe(8);
    const pending = pendingIn(t.store, "p");
    expect(pending).toHaveLength(12);
    for (const r of taken) expect(pending).toContain(`${formatIP(4, r?.addresses[0]?.allocation.address ?? 0n)}=${r?.id ?? ""}`);
    expect(t.events).toMatchObject({ missed: 1, taken: 4, made: 12 });
  });

  it("gives a repeated call of one admission request the same reservation", async () => {
    const t = setup();
    t.stock.take(plan, "warm");
    await settle();
    const first = t.stock.take(plan, "req");
    expect(t.stock.take(plan, "req")).toBe(first);
    expect(t.stock.take(plan, "other")?.id).not.toBe(first?.id);
  });

  it("serves a repeat afresh when the first call gave back what it took (it was refused after taking it)", async () => {
    const t = setup();
    t.stock.take(plan, "warm");
    await settle();
    const first = t.stock.take(plan, "req");
    const a = first?.addresses[0]?.allocation;
    // What reserveAddresses does with what a refused admission took: released exactly, by token.
    await t.writer.submit("p", { kind: "release", address: a?.address ?? 0n, token: a?.token ?? 0 });
    const again = t.stock.take(plan, "req");
    expect(again?.id).not.toBe(first?.id);
    expect(again?.addresses[0]?.allocation.address).not.toBe(a?.address);
  });

  it("hands out none with less than the margin of its lifetime left: it is given back instead, and fresh ones are made", async () => {
    const t = setup();
    t.stock.take(plan, "warm");
    await settle();
    const old = pendingIn(t.store, "p");
    t.clock.advance(TTL - MARGIN + 1);
    const r = t.stock.take(plan, "late");
    expect(r).toBeUndefined();
    await settle();
    const now = pendingIn(t.store, "p");
    for (const o of old) expect(now).not.toContain(o);
    expect(t.stock.count()).toBe(8);
    expect(t.events.voided).toBe(8);
  });

  it("hands out none made before its pool's spec changed, or that the pool's record no longer holds", async () => {
    const t = setup();
    t.stock.take(plan, "warm");
    await settle();
    const p = t.store.peek("p") as SpiderIPPool;
    t.store.seed({ ...p, metadata: { ...p.metadata, generation: 2 } });
    expect(t.stock.take(plan, "after-edit")).toBeUndefined();
    await settle();
    expect(t.stock.count()).toBeGreaterThan(0);
    // The record wiped (as an operator might): nothing in stock is held any more.
    const q = t.store.peek("p") as SpiderIPPool;
    t.store.seed({ ...q, status: {} });
    t.writer.observe(t.store.peek("p") as SpiderIPPool);
    expect(t.stock.take(plan, "after-wipe")).toBeUndefined();
  });

  it("makes them from free addresses only: never one cooling down, never more than a quarter of what is free", async () => {
    const t = setup({ size: 4 }, [pool("p", { ips: ["10.6.0.1-10.6.0.20"] })]);
    // 10.6.0.1-4 handed out and released: cooling down for 30 s.
    for (let i = 0; i < 4; i++) await t.writer.submit("p", { kind: "allocate", interface: "eth0", reservation: { id: `x${i}`, expiresAt: t.clock.now() + TTL } });
    for (let i = 0; i < 4; i++) await t.writer.submit("p", { kind: "release-reservation", reservation: `x${i}` });
    t.stock.take(plan, "warm");
    await settle();
    // 20 addresses, 4 cooling: 16 free, a quarter of which is 4.
    expect(t.stock.count()).toBe(4);
    expect(heldIn(t.store, "p")).toEqual(["10.6.0.5", "10.6.0.6", "10.6.0.7", "10.6.0.8"]);
  });

  it("serves a dual-stack plan with one id in both pools, as many as the smaller pool allows", async () => {
    const t = setup({}, [pool("v4", { ips: ["10.6.0.1-10.6.0.100"] }), pool("v6", { subnet: "fd00:6::/64", ips: ["fd00:6::1-fd00:6::14"] })]);
    const dual: StockItem[] = [{ nic: "eth0", family: 4, pool: "v4" }, { nic: "eth0", family: 6, pool: "v6" }];
    t.stock.take(dual, "warm");
    await settle();
    // v6 has 20 free: a quarter is 5, but it keeps twice the stock's size (16) free.
    expect(t.stock.count()).toBe(4);
    const r = t.stock.take(dual, "req");
    expect(r?.addresses.map((a) => a.pool)).toEqual(["v4", "v6"]);
    expect(pendingIn(t.store, "v4").filter((x) => x.endsWith(`=${r?.id ?? ""}`))).toHaveLength(1);
    expect(pendingIn(t.store, "v6").filter((x) => x.endsWith(`=${r?.id ?? ""}`))).toHaveLength(1);
  });

  it("gives its stock back when no admission asked for the combination for a while, and all of it when closed", async () => {
    const t = setup();
    t.stock.take(plan, "warm");
    await settle();
    const taken = t.stock.take(plan, "req");
    await settle();
    t.clock.advance(5_000);
    await t.stock.sweep();
    expect(t.stock.count()).toBe(0);
    // Only the reservation handed to a Pod stays pending (for the binder or the collector).
    expect(pendingIn(t.store, "p")).toEqual([`10.6.0.1=${taken?.id ?? ""}`]);
    t.stock.take(plan, "again");
    await settle();
    expect(t.stock.count()).toBe(8);
    await t.stock.close();
    expect(pendingIn(t.store, "p")).toEqual([`10.6.0.1=${taken?.id ?? ""}`]);
    expect(t.stock.take(plan, "closed")).toBeUndefined();
  });

  it("says when a pool's record holds stocked reservations (an admission that found the pool full may wait for them)", async () => {
    const t = setup();
    expect(holdsStock(t.store.peek("p"))).toBe(false);
    t.stock.take(plan, "warm");
    await settle();
    expect(holdsStock(t.store.peek("p"))).toBe(true);
    await t.stock.close();
    expect(holdsStock(t.store.peek("p"))).toBe(false);
  });

  it("gives its stock back once a pool has fewer than twice its size free, so that the last addresses go to admissions", async () => {
    const t = setup({ size: 4 }, [pool("p", { ips: ["10.6.0.1-10.6.0.40"] })]);
    t.stock.take(plan, "warm");
    await settle();
    expect(t.stock.count()).toBe(4);
    // Others take 29 more: 40 - 4 stocked - 29 = 7 free, under 2 x 4.
    for (let i = 0; i < 29; i++) await t.writer.submit("p", { kind: "allocate", interface: "eth0", reservation: { id: `o${i}`, expiresAt: t.clock.now() + TTL } });
    expect(t.stock.take(plan, "tight")).toBeUndefined();
    await settle();
    expect(t.stock.count()).toBe(0);
    expect(pendingIn(t.store, "p").filter((x) => x.includes("=s"))).toEqual([]);
  });

  it("gives back, after the grace, a reservation handed to a Pod that no cache or live list shows (refused after the webhook)", async () => {
    const seen = new Set<string>();
    const live = new Set<string>();
    let lists = 0;
    const t = setup({
      refused: {
        graceMs: 2_000,
        podWith: (id) => (seen.has(id) ? "app/web" : undefined),
        livePodsByReservation: () => {
          lists++;
          return Promise.resolve(new Map([...live].map((id) => [id, "app/x"])));
        },
      },
    });
    t.stock.take(plan, "warm");
    await settle();
    const cached = t.stock.take(plan, "a");
    const listed = t.stock.take(plan, "b");
    const refused = t.stock.take(plan, "c");
    seen.add(cached?.id ?? "");
    live.add(listed?.id ?? "");
    t.clock.advance(1_999);
    await t.stock.sweep();
    expect(lists).toBe(0);
    t.clock.advance(1);
    await t.stock.sweep();
    // One live list for both undecided; only the one no Pod carries goes.
    expect(lists).toBe(1);
    const pending = pendingIn(t.store, "p");
    expect(pending.some((x) => x.endsWith(`=${refused?.id ?? ""}`))).toBe(false);
    for (const r of [cached, listed]) expect(pending.some((x) => x.endsWith(`=${r?.id ?? ""}`))).toBe(true);
    expect(t.events.refused).toBe(1);
    // Decided once: the next sweep lists nothing.
    t.clock.advance(5_000);
    await t.stock.sweep();
    expect(lists).toBe(1);
  });

  it("keeps a handed-out reservation when the live list fails, and judges it at the next sweep", async () => {
    let fail = true;
    const t = setup({ refused: { graceMs: 1_000, podWith: () => undefined, livePodsByReservation: () => (fail ? Promise.reject(new Error("apiserver unreachable")) : Promise.resolve(new Map())) } });
    t.stock.take(plan, "warm");
    await settle();
    const r = t.stock.take(plan, "a");
    t.clock.advance(1_000);
    await t.stock.sweep();
    expect(pendingIn(t.store, "p").some((x) => x.endsWith(`=${r?.id ?? ""}`))).toBe(true);
    fail = false;
    await t.stock.sweep();
    expect(pendingIn(t.store, "p").some((x) => x.endsWith(`=${r?.id ?? ""}`))).toBe(false);
  });

  it("serves an unnamed Pod's admission whole from the stock, writing nothing; a named Pod or a pinned address allocate as before; another combination of pools has a stock of its own", async () => {
    const t = setup({}, [pool("p", { ips: ["10.6.0.1-10.6.0.100"] }), pool("q", { ips: ["10.6.0.101-10.6.0.200"] })]);
    const ctx = { ...reserveContext(t.store, t.writer, t.clock), stock: t.stock };
    const annotations = { "ipam.spidernet.io/ippool": '{"ipv4":["p"]}' };
    const first = await reserveAddresses({ namespace: "app", labels: {}, annotations }, "r-first", ctx);
    // The stock was empty: allocated as before, under the admission's own id.
    expect(first.assigned.reservation).toBe("r-first");
    await settle();
    const writes = t.batches.length;
    const stocked = await reserveAddresses({ namespace: "app", labels: {}, annotations }, "r-second", ctx);
    expect(t.batches.length).toBe(writes);
    expect(stocked.assigned.reservation).toMatch(/^s/);
    const address = stocked.assigned.ips[0]?.ipv4 ?? "";
    expect(stocked.assigned.ips[0]).toMatchObject({ interface: "eth0", ipv4Pool: "p" });
    expect(address).not.toBe(first.assigned.ips[0]?.ipv4);
    expect(pendingIn(t.store, "p")).toContain(`${address.replace("/24", "")}=${stocked.assigned.reservation}`);
    const named = await reserveAddresses({ namespace: "app", name: "web-0", labels: {}, annotations }, "r-named", ctx);
    expect(named.assigned.reservation).toBe("r-named");
    const pinned = await reserveAddresses({ namespace: "app", labels: {}, annotations: { ...annotations, "ipam.spidernet.io/ips": '[{"interface":"eth0","ipv4":"10.6.0.90"}]' } }, "r-pinned", ctx);
    expect(pinned.assigned).toMatchObject({ reservation: "r-pinned", ips: [{ ipv4: "10.6.0.90/24" }] });
    // Another combination (first candidate q) has a stock of its own, from its first admission on.
    const two = { "ipam.spidernet.io/ippool": '{"ipv4":["q","p"]}' };
    expect((await reserveAddresses({ namespace: "app", labels: {}, annotations: two }, "r-two", ctx)).assigned).toMatchObject({ reservation: "r-two", ips: [{ ipv4Pool: "q" }] });
    await settle();
    expect((await reserveAddresses({ namespace: "app", labels: {}, annotations: two }, "r-three", ctx)).assigned).toMatchObject({ reservation: expect.stringMatching(/^s/), ips: [{ ipv4Pool: "q" }] });
  });
});
