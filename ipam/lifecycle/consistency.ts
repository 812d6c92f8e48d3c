import { formatIP } from "../address/ip.js";
import { decodeAllocations } from "../allocation/codec.js";
import { buildPoolView } from "../allocation/pool-view.js";
import { holders, type PoolAllocations } from "../allocation/state.js";
import type { SpiderEndpoint } from "../kinds/endpoint.js";
import type { SpiderIPPool } from "../kinds/ippool.js";
import type { PodLike } from "../kinds/pod.js";
import { liveClaims, type Claim } from "./owners.js";

/** One pool's findings. Addresses are text; an owner is ns/name. */
export interface PoolConsistency {
  pool: string;
  /** Held (bound, not pending) with no live owner recording it under its token. */
  leaked: string[];
  /** A live owner records it, but the pool does not hold it under that token. */
  missing: string[];
  /** Claimed by two or more live owners. */
  duplicates: string[];
  /** Pending reservations past their lifetime (the collector has not run since). */
  expiredReservations: string[];
  /** Why the pool's record cannot be read, when it cannot. */
  unreadable?: string;
}

export interface ConsistencyReport {
  at: number;
  leaked: number;
  missing: number;
  duplicates: number;
  expiredReservations: number;
  unreadable: number;
  pools: PoolConsistency[];
}

export interface ConsistencyInput {
  pools: readonly SpiderIPPool[];
  endpoints: readonly SpiderEndpoint[];
  pods: readonly PodLike[];
  now: number;
}

/** The record of a pool, or why it cannot be read. */
function readPool(pool: SpiderIPPool): { state: PoolAllocations; format: (a: bigint) => string } | { error: string } {
  try {
    const view = buildPoolView(pool);
    return { state: decodeAllocations(pool.status?.allocations, view.subnet), format: (a) => formatIP(view.family, a) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** One pool's findings against the claims of live owners on it. */
function checkPool(pool: SpiderIPPool, claims: readonly Claim[], now: number): PoolConsistency {
  const name = pool.metadata.name ?? "";
  const out: PoolConsistency = { pool: name, leaked: [], missing: [], duplicates: [], expiredReservations: [] };
  const read = readPool(pool);
  if ("error" in read) {
    out.unreadable = read.error;
    out.missing = claims.map((c) => `${c.text} (${c.owner})`);
    return out;
  }
  const held = new Map<bigint, { token: number; pending: boolean }>();
  for (const h of holders(read.state)) held.set(h.address, { token: h.token, pending: h.reservation !== undefined });
  const claimed = new Map<bigint, Claim[]>();
  for (const c of claims) claimed.set(c.address, [...(claimed.get(c.address) ?? []), c]);
  for (const [address, cs] of claimed) {
    const uids = new Set(cs.map((c) => c.uid));
    if (uids.size > 1) out.duplicates.push(`${read.format(address)} (${[...new Set(cs.map((c) => c.owner))].join(", ")})`);
    const h = held.get(address);
    for (const c of cs) if (h?.token !== c.token) out.missing.push(`${c.text} (${c.owner})`);
  }
  for (const [address, h] of held) {
    if (h.pending) continue;
    if (!(claimed.get(address) ?? []).some((c) => c.token === h.token)) out.leaked.push(read.format(address));
  }
  out.expiredReservations = read.state.pending.filter((r) => r.expiresAt <= now).map((r) => `${r.id}${r.owner ? ` (${r.owner})` : ""}`);
  return out;
}

/**
 * The consistency checker: per pool, addresses held with no live owner (leaked), live owners
 * whose address the pool does not hold (missing), addresses two live owners claim
 * (duplicates), and reservations past their lifetime. A pure function over pools, endpoints
 * and Pods read at about the same moment; the GC, the e2e suites and operators call it.
 */
export function checkConsistency(input: ConsistencyInput): ConsistencyReport {
  const claims = liveClaims(input.endpoints, input.pods);
  const byPool = new Map<string, Claim[]>();
  for (const c of claims) byPool.set(c.pool, [...(byPool.get(c.pool) ?? []), c]);
  const pools = input.pools.map((p) => checkPool(p, byPool.get(p.metadata.name ?? "") ?? [], input.now));
  const known = new Set(input.pools.map((p) => p.metadata.name ?? ""));
  for (const [pool, cs] of byPool) {
    if (!known.has(pool)) pools.push({ pool, leaked: [], missing: cs.map((c) => `${c.text} (${c.owner})`), duplicates: [], expiredReservations: [], unreadable: "no such pool" });
  }
  const sum = (f: (p: PoolConsistency) => number): number => pools.reduce((n, p) => n + f(p), 0);
  return {
    at: input.now,
    leaked: sum((p) => p.leaked.length),
    missing: sum((p) => p.missing.length),
    duplicates: sum((p) => p.duplicates.length),
    expiredReservations: sum((p) => p.expiredReservations.length),
    unreadable: sum((p) => (p.unreadable ? 1 : 0)),
    pools,
  };
}
