import { IPSet } from "../address/ipset.js";
import { CoolingSet } from "./cooling-set.js";
import { FreeList } from "./free-list.js";
import type { PoolView } from "./pool-view.js";
import {
  type AllocationRun,
  type HeldAddress,
  type PendingReservation,
  type PoolAllocations,
  runIndexAtOrBefore,
  tokenAt,
} from "./state.js";

/** A pending reservation as the draft holds it while requests are applied. */
export interface MutableReservation {
  id: string;
  owner?: string;
  expiresAt: number;
  held: HeldAddress[];
}

interface ReservationIndex {
  pending: Map<string, MutableReservation>;
  byOwner: Map<string, string>;
  heldBy: Map<bigint, string>;
  /** The input's reservations, by id: handed back as they are unless `changed` names them. */
  source: Map<string, PendingReservation>;
  changed: Set<string>;
}

/**
 * A private, mutable working copy of one pool's record while a batch of requests is applied
 * (group commit). Each part of the record is copied on its first write (O(its size)) and
 * indexed on its first lookup; each request is then a binary search plus at most one array
 * splice. `toState` hands back a new immutable record that shares untouched parts with the
 * input, which is never modified.
 */
export class AllocationDraft {
  readonly view: PoolView;
  nextToken: number;
  private readonly source: PoolAllocations;
  /** The runs, shared with the input until the first write. */
  private runs: readonly AllocationRun[];
  private ownRuns: AllocationRun[] | undefined;
  private index: ReservationIndex | undefined;
  readonly cooling: CoolingSet;
  private freeList: FreeList | undefined;

  constructor(view: PoolView, state: PoolAllocations, now: number) {
    this.view = view;
    this.source = state;
    this.nextToken = state.nextToken;
    this.runs = state.runs;
    this.cooling = new CoolingSet(state.cooling, now);
  }

  private get writableRuns(): AllocationRun[] {
    if (this.ownRuns === undefined) {
      this.ownRuns = this.runs.slice();
      this.runs = this.ownRuns;
    }
    return this.ownRuns;
  }

  /** The pending reservations, indexed on first use (most releases never look at them). */
  private get reservations(): ReservationIndex {
    if (this.index === undefined) {
      const index: ReservationIndex = { pending: new Map(), byOwner: new Map(), heldBy: new Map(), source: new Map(), changed: new Set() };
      for (const r of this.source.pending) {
        index.pending.set(r.id, { id: r.id, owner: r.owner, expiresAt: r.expiresAt, held: r.held.slice() });
        index.source.set(r.id, r);
        if (r.owner !== undefined) index.byOwner.set(r.owner, r.id);
        for (const h of r.held) index.heldBy.set(h.address, r.id);
      }
      this.index = index;
    }
    return this.index;
  }

  /** Built on first use: a batch of releases or binds never pays for it. */
  get free(): FreeList {
    if (this.freeList === undefined) {
      const family = this.view.family;
      const held = IPSet.of(
        family,
        this.runs.map((r) => ({ start: r.start, end: r.start + BigInt(r.count) - 1n })),
      );
      const cooling = IPSet.of(
        family,
        this.cooling.sortedAddresses().map((a) => ({ start: a, end: a })),
      );
      this.freeList = new FreeList(this.view.allocatable.difference(held).difference(cooling).ranges);
    }
    return this.freeList;
  }

  tokenAt(address: bigint): number | undefined {
    return tokenAt(this.runs, address);
  }

  allocatedCount(): number {
    let n = 0;
    for (const r of this.runs) n += r.count;
    return n;
  }

  reservation(id: string): Readonly<MutableReservation> | undefined {
    return this.reservations.pending.get(id);
  }

  reservationOfOwner(owner: string): Readonly<MutableReservation> | undefined {
    const { pending, byOwner } = this.reservations;
    const id = byOwner.get(owner);
    return id === undefined ? undefined : pending.get(id);
  }

  reservationHolding(address: bigint): Readonly<MutableReservation> | undefined {
    const { pending, heldBy } = this.reservations;
    const id = heldBy.get(address);
    return id === undefined ? undefined : pending.get(id);
  }

  /** Marks a free or cooling `address` as held under a fresh token and returns the token. */
  take(address: bigint): number {
    if (!this.free.remove(address)) this.cooling.remove(address);
    const token = this.nextToken++;
    const runs = this.writableRuns;
    const i = runIndexAtOrBefore(runs, address);
    const r = runs[i];
    // Lowest-first fills hand out consecutive addresses with consecutive tokens: one run.
    if (r !== undefined && r.start + BigInt(r.count) === address && r.firstToken + r.count === token) {
      runs[i] = { start: r.start, count: r.count + 1, firstToken: r.firstToken };
    } else {
      runs.splice(i + 1, 0, { start: address, count: 1, firstToken: token });
    }
    return token;
  }

  /** Stops holding `address` (the caller checked the token); true when it was held. */
  drop(address: bigint): boolean {
    const i = runIndexAtOrBefore(this.runs, address);
    const r = this.runs[i];
    if (r === undefined) return false;
    const k = address - r.start;
    if (k >= BigInt(r.count)) return false;
    const left = Number(k);
    const parts: AllocationRun[] = [];
    if (left > 0) parts.push({ start: r.start, count: left, firstToken: r.firstToken });
    if (left < r.count - 1) {
      parts.push({ start: address + 1n, count: r.count - left - 1, firstToken: r.firstToken + left + 1 });
    }
    const runs = this.writableRuns;
    if (parts.length === 1) runs[i] = parts[0] as AllocationRun;
    else runs.splice(i, 1, ...parts);
    this.unhold(address);
    return true;
  }

  /** Puts a dropped address back: cooling until `until`, or free when that is not later than `now`. */
  returnAddress(address: bigint, until: number, now: number): void {
    // An address no longer allocatable (spec changed while it was held) just leaves the pool.
    if (!this.view.allocatable.contains(address)) return;
    if (until > now) {
      this.cooling.add(address, until);
    } else if (this.freeList !== undefined) {
      this.freeList.insert(address);
    }
  }

  /** Moves a reservation's expiry to `expiresAt` if that is later. */
  extendReservation(id: string, expiresAt: number): void {
    const { pending, changed } = this.reservations;
    const res = pending.get(id);
    if (res === undefined || res.expiresAt >= expiresAt) return;
    res.expiresAt = expiresAt;
    changed.add(id);
  }

  addToReservation(id: string, owner: string | undefined, expiresAt: number, held: HeldAddress): void {
    const { pending, byOwner, heldBy, changed } = this.reservations;
    changed.add(id);
    let res = pending.get(id);
    if (res === undefined) {
      res = { id, owner, expiresAt, held: [] };
      pending.set(id, res);
      if (owner !== undefined) byOwner.set(owner, id);
    }
    res.expiresAt = Math.max(res.expiresAt, expiresAt);
    res.held.push(held);
    heldBy.set(held.address, id);
  }

  removeReservation(id: string): MutableReservation | undefined {
    const { pending, byOwner, heldBy } = this.reservations;
    const res = pending.get(id);
    if (res === undefined) return undefined;
    pending.delete(id);
    if (res.owner !== undefined && byOwner.get(res.owner) === id) byOwner.delete(res.owner);
    for (const h of res.held) heldBy.delete(h.address);
    return res;
  }

  private unhold(address: bigint): void {
    // Without pending reservations there is nothing to look up: skip building the index.
    if (this.index === undefined && this.source.pending.length === 0) return;
    const { pending, heldBy, changed } = this.reservations;
    const id = heldBy.get(address);
    if (id === undefined) return;
    heldBy.delete(address);
    changed.add(id);
    const res = pending.get(id);
    if (res === undefined) return;
    res.held = res.held.filter((h) => h.address !== address);
    if (res.held.length === 0) this.removeReservation(id);
  }

  toState(): PoolAllocations {
    let pending: readonly PendingReservation[] = this.source.pending;
    const index = this.index;
    if (index !== undefined) {
      // An untouched reservation is the input's object itself: the codec knows its text.
      pending = [...index.pending.values()].map((r) => {
        const kept = index.changed.has(r.id) ? undefined : index.source.get(r.id);
        if (kept !== undefined) return kept;
        return r.owner === undefined ? { id: r.id, expiresAt: r.expiresAt, held: r.held.slice() } : { id: r.id, owner: r.owner, expiresAt: r.expiresAt, held: r.held.slice() };
      });
    }
    return { nextToken: this.nextToken, runs: this.runs, pending, cooling: this.cooling.toList() };
  }
}
