import { randomUUID } from "node:crypto";
import type { Family } from "../address/ip.js";
import { decodeAllocations } from "../allocation/codec.js";
import { buildPoolView, type PoolView } from "../allocation/pool-view.js";
import type { Allocation, PoolResponse } from "../allocation/requests.js";
import { readRecord } from "../allocation/usage.js";
import { findReservation } from "../allocation/state.js";
import type { SpiderIPPool } from "../kinds/ippool.js";
import type { Allocator, Cache, Clock, Log } from "../ports.js";
import { freshestPool } from "./pool-writer.js";
import { isStockReservation, reservationId } from "./reservation-id.js";

/**
 * Reservations made ahead of the Pods that will take them, so that an admission writes no
 * pool: the admission of a Pod whose every NIC draws from a plain pool takes a reservation
 * from the stock of that combination of pools, in memory, and a refill (one group-committed
 * write per pool for many reservations) runs after its answer, off the admission's path.
 *
 * A stocked reservation is an ordinary pending reservation in each pool's record (no owner,
 * an `s` id), so everything after the admission is unchanged: the Pod's annotation names it,
 * the binder binds it. One handed to a Pod that never appears is given back by this replica
 * after the refused-Pod grace (`refused`); the leader's collector leaves stocked ones alone
 * until they expire (their age says nothing about a Pod), then releases those no Pod
 * carries. Safety rests on three rules:
 *  - a reservation is handed out at most once (taken from memory, remembered per request so
 *    that the apiserver's repeat of a call gets the same one while it is still held for it);
 *  - it is handed out only while it has `marginMs` of its lifetime left, so that its Pod is
 *    stored (the slowest admission chain after the webhook) before the collector may look
 *    for it;
 *  - it is handed out only while the freshest record this replica knows still holds it
 *    pending, under the same pool (uid and spec generation) it was made in.
 * A replica that stops releases its stock; one that dies leaves it to expire.
 */

/** One NIC/family of a Pod and the pool it draws from. */
export interface StockItem {
  readonly nic: string;
  readonly family: Family;
  readonly pool: string;
}

/** One address of a stocked reservation, as an admission uses it. */
export interface StockedAddress extends StockItem {
  readonly view: PoolView;
  readonly allocation: Allocation;
}

/** A reservation taken from the stock: its id (the Pod's annotation names it) and an address per item of the plan. */
export interface StockedReservation {
  readonly id: string;
  readonly expiresAt: number;
  readonly addresses: readonly StockedAddress[];
}

interface Made extends StockedReservation {
  /** uid and generation of each pool at the making: a pool replaced or edited since voids it. */
  readonly made: ReadonlyMap<string, { uid?: string; generation?: number }>;
}

interface Shelf {
  readonly plan: readonly StockItem[];
  readonly items: Made[];
  lastWanted: number;
  refilling: boolean;
}

export type StockEvent = "made" | "taken" | "missed" | "released" | "voided" | "refused";

export interface StockOptions {
  allocator: Allocator;
  pools: Cache<SpiderIPPool>;
  clock: Pick<Clock, "now">;
  /** The lifetime of a reservation (the collector releases an unbound one after it). */
  ttlMs: number;
  /** The least lifetime a reservation must have left to be handed out. */
  marginMs: number;
  /** Reservations kept per combination of pools; refilled when half are gone. */
  size: number;
  /** A combination no admission asked for in this long gives its stock back. */
  idleMs: number;
  /** Why a pool may hand out nothing now (its record is being rebuilt), if so. */
  blocked?: (pool: SpiderIPPool) => string | undefined;
  log: Log;
  /**
   * Refused Pods: a reservation handed out this long ago that no Pod carries (the cache, then
   * one live list per sweep) is given back, as the collector does for admissions' own
   * reservations after the same grace. Without it, only its expiry brings it back.
   */
  refused?: {
    graceMs: number;
    podWith: (reservation: string) => string | undefined;
    livePodsByReservation: () => Promise<ReadonlyMap<string, string>>;
  };
  onEvent?: (event: StockEvent, count: number) => void;
  /** Unique per process: stocked ids are derived from it (tests fix it). */
  instance?: string;
}

const keyOf = (plan: readonly StockItem[]): string => plan.map((i) => `${i.nic}/${i.family}=${i.pool}`).join(",");

export class ReservationStock {
  private readonly shelves = new Map<string, Shelf>();
  /** What each admission request took, so that a repeat of the call gets the same. */
  private readonly handed = new Map<string, Made>();
  /** Reservations handed out whose Pod has not been seen yet, with when they were handed out. */
  private readonly unseen = new Map<Made, number>();
  private readonly instance: string;
  private seq = 0;
  private closed: boolean;
  private sweeping = false;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly o: StockOptions) {
    this.instance = o.instance ?? randomUUID();
    // A lifetime no longer than the margin leaves no moment to hand a reservation out.
    this.closed = o.size <= 0 || o.ttlMs <= o.marginMs;
  }

  /**
   * A reservation for `plan` from the stock, or undefined (the caller allocates as usual);
   * either way the stock of `plan` is refilled in the background when low. `request` names
   * the admission call (its reservation id): a repeat gets what the first call got.
   */
  take(plan: readonly StockItem[], request: string): StockedReservation | undefined {
    if (this.closed || plan.length === 0) return undefined;
    const now = this.o.clock.now();
    const again = this.handed.get(request);
    // A repeat gets the same, unless what it got is no longer held for it (the first call was
    // refused after taking it, and gave its addresses back): then it is served afresh.
    if (again && this.usable(again, now)) return again;
    this.handed.delete(request);
    const key = keyOf(plan);
    const shelf = this.shelves.get(key) ?? { plan, items: [], lastWanted: now, refilling: false };
    this.shelves.set(key, shelf);
    shelf.lastWanted = now;
    if (this.tight(shelf.plan)) {
      // Too few addresses left to keep any aside: every admission allocates, the stock goes back.
      void this.release(shelf.items.splice(0), "released");
      this.o.onEvent?.("missed", 1);
      return undefined;
    }
    let found: Made | undefined;
    while (!found && shelf.items.length > 0) {
      const next = shelf.items.shift() as Made;
      if (this.usable(next, now)) found = next;
      else void this.release([next], "voided");
    }
    this.refill(shelf);
    if (!found) {
      this.o.onEvent?.("missed", 1);
      return undefined;
    }
    this.handed.set(request, found);
    if (this.o.refused) this.unseen.set(found, now);
    this.o.onEvent?.("taken", 1);
    return found;
  }

  /**
   * Gives back reservations too old to hand out, the stock of combinations no longer asked
   * for or whose pools run short, and reservations handed to Pods that were never created;
   * forgets old requests.
   */
  async sweep(): Promise<void> {
    // One at a time: a slow live list must not be asked for again by the next tick.
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      await this.sweepOnce(this.o.clock.now());
    } finally {
      this.sweeping = false;
    }
  }

  private async sweepOnce(now: number): Promise<void> {
    for (const [request, r] of this.handed) if (r.expiresAt <= now) this.handed.delete(request);
    const out: Made[] = [];
    for (const [key, shelf] of this.shelves) {
      const idle = now - shelf.lastWanted >= this.o.idleMs;
      const keep = idle || this.tight(shelf.plan) ? [] : shelf.items.filter((m) => this.lifeLeft(m, now));
      out.push(...shelf.items.filter((m) => !keep.includes(m)));
      shelf.items.splice(0, shelf.items.length, ...keep);
      if (idle && !shelf.refilling) this.shelves.delete(key);
    }
    await Promise.all([this.release(out, "released"), this.collectRefused(now)]);
  }

  /** Gives back what was handed to Pods never created (refused after the webhook: quota, policy), after the grace. */
  private async collectRefused(now: number): Promise<void> {
    const r = this.o.refused;
    if (!r) return;
    const due: Made[] = [];
    for (const [res, at] of this.unseen) {
      if (r.podWith(res.id) !== undefined || res.expiresAt <= now) this.unseen.delete(res);
      else if (now - at >= r.graceMs) due.push(res);
    }
    if (due.length === 0) return;
    let live: ReadonlyMap<string, string>;
    try {
      live = await r.livePodsByReservation();
    } catch (err) {
      // Undecided: asked again at the next sweep (and the collector releases them at expiry).
      this.o.log.warn({ err }, "live list of Pods failed; reservations handed out are judged at the next sweep");
      return;
    }
    const gone = due.filter((res) => !live.has(res.id));
    for (const res of due) this.unseen.delete(res);
    if (gone.length === 0) return;
    this.o.log.info({ reservations: gone.map((g) => g.id) }, "reservations handed to Pods never created released");
    this.o.onEvent?.("refused", gone.length);
    await this.giveBack(gone.flatMap((g) => g.addresses.map((a) => ({ id: g.id, pool: a.pool }))));
  }

  /**
   * Whether a pool of the plan has too few free addresses to keep any aside: fewer than
   * twice the stock's size (stocked ones count as taken), so that a pool filled to the last
   * address is served by admissions allocating, not left in other replicas' stocks.
   */
  private tight(plan: readonly StockItem[]): boolean {
    return plan.some((item) => {
      const pool = this.freshest(item.pool);
      if (!pool?.status?.totalIPCount) return false;
      return pool.status.totalIPCount - (pool.status.allocatedIPCount ?? 0) < 2 * this.o.size;
    });
  }

  /** Sweeps every `everyMs` until closed or abandoned. */
  startSweeping(everyMs = 1000): void {
    this.timer ??= setInterval(() => void this.sweep(), everyMs).unref();
  }

  /** Hands out nothing more and leaves the stock to expire, as a crash would. */
  abandon(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  /** Hands out nothing more and gives back everything in stock. */
  async close(): Promise<void> {
    this.abandon();
    const out = [...this.shelves.values()].flatMap((s) => s.items.splice(0));
    this.shelves.clear();
    await this.release(out, "released");
  }

  /** Reservations in stock now, over every combination. */
  count(): number {
    let n = 0;
    for (const s of this.shelves.values()) n += s.items.length;
    return n;
  }

  private freshest(name: string): SpiderIPPool | undefined {
    return freshestPool(this.o.allocator, this.o.pools, name);
  }

  private lifeLeft(m: Made, now: number): boolean {
    return m.expiresAt - now >= this.o.marginMs;
  }

  /** Whether `m` may be handed out now: life left, and every pool as it was, still holding it pending. */
  private usable(m: Made, now: number): boolean {
    return this.lifeLeft(m, now) && m.addresses.every((a) => this.stillHeld(m, a));
  }

  /** Whether the freshest copy of `a`'s pool is the one `m` was made in, free to serve, and holds `a` pending under `m`. */
  private stillHeld(m: Made, a: StockedAddress): boolean {
    const pool = this.freshest(a.pool);
    const made = m.made.get(a.pool);
    if (!pool || pool.metadata.uid !== made?.uid || pool.metadata.generation !== made?.generation || this.o.blocked?.(pool)) return false;
    try {
      const held = findReservation(decodeAllocations(pool.status?.allocations, a.view.subnet), m.id)?.held ?? [];
      return held.some((h) => h.address === a.allocation.address && h.token === a.allocation.token && h.interface === a.nic);
    } catch {
      return false;
    }
  }

  /**
   * How many to make: up to `size`, never more than a quarter of what any pool of the plan
   * has free (not cooling down), and never so many that the pool would be tight afterwards.
   */
  private wanted(shelf: Shelf): number {
    const now = this.o.clock.now();
    let want = this.o.size - shelf.items.length;
    for (const item of shelf.plan) {
      const pool = this.freshest(item.pool);
      const state = readRecord(pool);
      if (!pool || !state) return 0;
      const cooling = state.cooling.filter((c) => c.until > now).length;
      const free = (pool.status?.totalIPCount ?? buildPoolView(pool).totalIPCount) - (pool.status?.allocatedIPCount ?? 0) - cooling;
      want = Math.min(want, Math.floor(free / 4), free - 2 * this.o.size);
    }
    return want;
  }

  private refill(shelf: Shelf): void {
    if (shelf.refilling || this.closed || shelf.items.length > this.o.size / 2) return;
    const want = this.wanted(shelf);
    if (want <= 0) return;
    shelf.refilling = true;
    void this.make(shelf, want)
      .catch((err: unknown) => this.o.log.warn({ err, plan: keyOf(shelf.plan) }, "stocking reservations failed"))
      .finally(() => (shelf.refilling = false));
  }

  /** Makes `count` reservations for the shelf's plan: every request at once, so the pool writer puts each pool's in one write. */
  private async make(shelf: Shelf, count: number): Promise<void> {
    const expiresAt = this.o.clock.now() + this.o.ttlMs;
    const ids = Array.from({ length: count }, () => reservationId("stock", `${this.instance}/${this.seq++}`));
    // The copy stillHeld compares with: a cache behind a spec edit would void what was just made.
    const made = new Map(shelf.plan.map((i) => {
      const p = this.freshest(i.pool);
      return [i.pool, { ...(p?.metadata.uid !== undefined ? { uid: p.metadata.uid } : {}), ...(p?.metadata.generation !== undefined ? { generation: p.metadata.generation } : {}) }] as const;
    }));
    const allocate = (id: string, i: StockItem): Promise<PoolResponse | undefined> =>
      this.o.allocator.submit(i.pool, { kind: "allocate", interface: i.nic, reservation: { id, expiresAt }, fresh: true }).catch(() => undefined);
    const answers = await Promise.all(ids.map((id) => Promise.all(shelf.plan.map((i) => allocate(id, i)))));
    const good: Made[] = [];
    const broken: string[] = [];
    answers.forEach((perItem, n) => {
      const id = ids[n] as string;
      const addresses = perItem.flatMap((r, k): StockedAddress[] => (r?.ok && r.kind === "allocate" ? [{ ...(shelf.plan[k] as StockItem), view: r.view, allocation: r.allocation }] : []));
      if (addresses.length === shelf.plan.length) good.push({ id, expiresAt, addresses, made });
      else broken.push(id);
    });
    good.sort(compareAddresses);
    if (this.closed) {
      await this.release(good, "released");
      good.length = 0;
    }
    shelf.items.push(...good);
    if (good.length > 0) this.o.onEvent?.("made", good.length);
    // Some pool could not serve it (full), or its write failed and may have stored it anyway: give it back wherever it is.
    await this.giveBack(broken.flatMap((id) => shelf.plan.map((i) => ({ id, pool: i.pool }))));
  }

  /** Releases whole reservations in every pool they hold addresses in. */
  private async release(items: readonly Made[], event: StockEvent): Promise<void> {
    if (items.length === 0) return;
    this.o.onEvent?.(event, items.length);
    await this.giveBack(items.flatMap((m) => m.addresses.map((a) => ({ id: m.id, pool: a.pool }))));
  }

  private async giveBack(reservations: readonly { id: string; pool: string }[]): Promise<void> {
    await Promise.all(
      reservations.map(({ id, pool }) =>
        this.o.allocator.submit(pool, { kind: "release-reservation", reservation: id }).catch((err: unknown) => {
          // It expires, and the collector releases it then.
          this.o.log.warn({ err, pool, reservation: id }, "giving back a stocked reservation failed");
        }),
      ),
    );
  }
}

/** Lowest address first (of the first item), as admissions without a stock are served. */
function compareAddresses(a: Made, b: Made): number {
  const x = a.addresses[0]?.allocation.address ?? 0n;
  const y = b.addresses[0]?.allocation.address ?? 0n;
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Whether a pool's record holds stocked reservations (made ahead, perhaps not handed out):
 * a replica gives them back when the pool runs short, so an admission that found the pool
 * full may wait for them as for any release on its way.
 */
export function holdsStock(pool: SpiderIPPool | undefined): boolean {
  return readRecord(pool)?.pending.some((r) => isStockReservation(r.id)) ?? false;
}
