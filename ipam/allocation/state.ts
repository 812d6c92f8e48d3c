/**
 * The allocation record of ONE pool: plain, immutable data. Every operation in this folder
 * takes a record and returns a new one; nothing here knows about Kubernetes or time sources.
 *
 * Tokens make release exact. Each allocation gets a fresh pool-local token (never reused),
 * and the holder keeps (address, token). A release frees an address only if the pool still
 * holds it under that token, so a late or repeated release of an address that has since gone
 * to someone else is a reported no-op, never a free.
 */

/** Addresses start .. start+count-1, held with tokens firstToken .. firstToken+count-1. */
export interface AllocationRun {
  readonly start: bigint;
  readonly count: number;
  readonly firstToken: number;
}

/** One address taken by a reservation, for one interface of the Pod. */
export interface HeldAddress {
  readonly address: bigint;
  readonly token: number;
  readonly interface: string;
}

/**
 * What one Pod admission took in this pool and has not yet bound to a Pod. `id` is chosen by
 * the caller and written into the Pod annotation; `owner` (e.g. "ns/name" for a named Pod)
 * lets a repeated admission for the same Pod get back what it already holds.
 */
export interface PendingReservation {
  readonly id: string;
  readonly owner?: string;
  readonly expiresAt: number;
  readonly held: readonly HeldAddress[];
}

/** A released address that should not be handed out again before `until` (ms). */
export interface CoolingAddress {
  readonly address: bigint;
  readonly until: number;
}

export interface PoolAllocations {
  /** The next token to hand out; tokens are pool-local and monotonic. */
  readonly nextToken: number;
  /** Sorted by start, non-overlapping. */
  readonly runs: readonly AllocationRun[];
  /** In the order the reservations were made. */
  readonly pending: readonly PendingReservation[];
  /** Sorted by address. (Reuse order is (until, address); the allocator works that out.) */
  readonly cooling: readonly CoolingAddress[];
}

export const FIRST_TOKEN = 1;

export function emptyAllocations(): PoolAllocations {
  return { nextToken: FIRST_TOKEN, runs: [], pending: [], cooling: [] };
}

export function allocatedCount(state: PoolAllocations): number {
  let n = 0;
  for (const r of state.runs) n += r.count;
  return n;
}

/** Index of the last run starting at or below `address`, or -1. */
export function runIndexAtOrBefore(runs: readonly AllocationRun[], address: bigint): number {
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((runs[mid] as AllocationRun).start <= address) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** The token under which `address` is held, or undefined when it is not held. */
export function tokenAt(runs: readonly AllocationRun[], address: bigint): number | undefined {
  const r = runs[runIndexAtOrBefore(runs, address)];
  if (r === undefined) return undefined;
  const offset = address - r.start;
  return offset < BigInt(r.count) ? r.firstToken + Number(offset) : undefined;
}

export interface Holder {
  readonly address: bigint;
  readonly token: number;
  /** Set while the address belongs to a reservation not yet bound to a Pod. */
  readonly reservation?: string;
  readonly owner?: string;
  readonly interface?: string;
}

/** Every held address in ascending order, with its reservation when it is still pending. */
export function* holders(state: PoolAllocations): Generator<Holder> {
  const byAddress = new Map<bigint, { res: PendingReservation; held: HeldAddress }>();
  for (const res of state.pending) for (const held of res.held) byAddress.set(held.address, { res, held });
  for (const r of state.runs) {
    for (let i = 0; i < r.count; i++) {
      const address = r.start + BigInt(i);
      const p = byAddress.get(address);
      yield p === undefined
        ? { address, token: r.firstToken + i }
        : { address, token: r.firstToken + i, reservation: p.res.id, owner: p.res.owner, interface: p.held.interface };
    }
  }
}

/**
 * Reservations whose TTL has passed. The caller (a GC that looks again for a Pod carrying the
 * reservation before releasing) decides what to do with them.
 */
export function expiredReservations(state: PoolAllocations, now: number): PendingReservation[] {
  return state.pending.filter((r) => r.expiresAt <= now);
}

export function findReservation(state: PoolAllocations, id: string): PendingReservation | undefined {
  return state.pending.find((r) => r.id === id);
}

/** Drops cool-downs that have ended; those addresses are simply free again. */
export function pruneCooling(state: PoolAllocations, now: number): PoolAllocations {
  const cooling = state.cooling.filter((c) => c.until > now);
  return cooling.length === state.cooling.length ? state : { ...state, cooling };
}

/**
 * Binds a reservation: its Pod now exists (and its SpiderEndpoint records the tokens), so the
 * pending entry goes while the addresses stay held. Binding an unknown id changes nothing.
 */
export function bindReservation(
  state: PoolAllocations,
  id: string,
): { state: PoolAllocations; found: boolean; held: readonly HeldAddress[] } {
  const res = findReservation(state, id);
  if (res === undefined) return { state, found: false, held: [] };
  return { state: { ...state, pending: state.pending.filter((r) => r.id !== id) }, found: true, held: res.held };
}
