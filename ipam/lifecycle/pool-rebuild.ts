import { decodeAllocations, encodeAllocations } from "../allocation/codec.js";
import { buildPoolView } from "../allocation/pool-view.js";
import { FIRST_TOKEN, type AllocationRun, type HeldAddress, type PendingReservation, type PoolAllocations } from "../allocation/state.js";
import { poolUsage } from "../allocation/usage.js";
import type { SpiderEndpoint } from "../kinds/endpoint.js";
import type { SpiderIPPool } from "../kinds/ippool.js";
import type { PodLike } from "../kinds/pod.js";
import { liveClaims, type Claim } from "./owners.js";

/**
 * Why a pool's allocation record cannot be trusted, or undefined when it can: it does not
 * parse, or it is empty while live owners record addresses in it (its status was wiped).
 * Such a pool hands out nothing until the leader has rebuilt the record.
 */
export function untrustedRecord(pool: SpiderIPPool, claimsIn: (pool: string) => boolean): string | undefined {
  const text = pool.status?.allocations;
  if (text) {
    try {
      decodeAllocations(text, buildPoolView(pool).subnet);
      return undefined;
    } catch (err) {
      return `its allocation record cannot be read (${(err as Error).message})`;
    }
  }
  return wipedRecord(pool, claimsIn);
}

/**
 * The allocation guard's cheap half, asked on every pool write that allocates: an empty
 * record while live owners record addresses in the pool (its status was wiped). A record
 * that does not parse needs no guard: the write refuses it itself (ALLOCATION_CORRUPT).
 */
export function wipedRecord(pool: SpiderIPPool, claimsIn: (pool: string) => boolean): string | undefined {
  if (pool.status?.allocations) return undefined;
  return claimsIn(pool.metadata.name ?? "") ? "its allocation record is empty while SpiderEndpoints or Pods record addresses in it" : undefined;
}

/** One claim per address: a bound (endpoint) claim wins over an annotation, then the higher token (the later allocation). */
function onePerAddress(claims: readonly Claim[]): Claim[] {
  const best = new Map<bigint, Claim>();
  for (const c of claims) {
    const b = best.get(c.address);
    const better = !b || (c.via === "endpoint" && b.via !== "endpoint") || (c.via === b.via && c.token > b.token);
    if (better) best.set(c.address, c);
  }
  // Tokens are unique in a record: a token two addresses claim (a forged annotation) keeps its first.
  const byToken = new Map<number, Claim>();
  for (const c of [...best.values()].sort((a, b) => (a.address < b.address ? -1 : 1))) if (!byToken.has(c.token)) byToken.set(c.token, c);
  return [...byToken.values()];
}

/** Pending reservations for Pods admitted but not yet bound (their annotation is the only record). */
function pendingOf(kept: readonly Claim[], expiresAt: number): PendingReservation[] {
  const byReservation = new Map<string, { owner: string; held: HeldAddress[] }>();
  for (const c of kept) {
    if (c.via !== "annotation" || !c.reservation) continue;
    const r = byReservation.get(c.reservation) ?? { owner: c.owner, held: [] };
    if (!r.held.some((h) => h.interface === c.nic)) r.held.push({ address: c.address, token: c.token, interface: c.nic });
    byReservation.set(c.reservation, r);
  }
  // An owner has one pending reservation in a record; a second one (never expected) goes without its owner.
  const owners = new Set<string>();
  return [...byReservation].map(([id, r]) => {
    if (owners.has(r.owner)) return { id, expiresAt, held: r.held };
    owners.add(r.owner);
    return { id, owner: r.owner, expiresAt, held: r.held };
  });
}

/**
 * The allocation record of a pool rebuilt from the truth that survives its status: what
 * live owners' SpiderEndpoints record (bound) and what admitted Pods carry in their
 * annotation (pending again, with a fresh lifetime). Tokens are the recorded ones, so every
 * later release stays exact; the next token follows the highest seen. Addresses outside the
 * pool's subnet are dropped (the checker reports their owners as missing).
 */
export function rebuildPool(pool: SpiderIPPool, input: { endpoints: readonly SpiderEndpoint[]; pods: readonly PodLike[]; now: number; ttlMs: number }): SpiderIPPool {
  const view = buildPoolView(pool);
  const name = pool.metadata.name ?? "";
  const inSubnet = (a: bigint): boolean => a >= view.subnet.network && a <= view.subnet.last;
  const kept = onePerAddress(liveClaims(input.endpoints, input.pods).filter((c) => c.pool === name && inSubnet(c.address)));
  const runs: AllocationRun[] = kept.map((c) => ({ start: c.address, count: 1, firstToken: c.token }));
  const nextToken = kept.reduce((n, c) => Math.max(n, c.token + 1), FIRST_TOKEN);
  const state: PoolAllocations = { nextToken, runs, pending: pendingOf(kept, input.now + input.ttlMs), cooling: [] };
  const usage = poolUsage(view, state);
  return { ...pool, status: { ...pool.status, allocations: encodeAllocations(state, view.subnet), allocatedIPCount: usage.allocated, totalIPCount: usage.total } };
}
