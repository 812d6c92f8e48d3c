import type { Family } from "../address/ip.js";
import { IPSet } from "../address/ipset.js";
import { applyPoolRequests } from "../allocation/batch.js";
import { decodeAllocations, encodeAllocations } from "../allocation/codec.js";
import { buildPoolView, reservedAddresses, specFamily } from "../allocation/pool-view.js";
import type { PoolRequest, PoolResponse } from "../allocation/requests.js";
import { poolUsage } from "../allocation/usage.js";
import { IpamError } from "../errors.js";
import type { SpiderIPPool } from "../kinds/ippool.js";
import type { SpiderReservedIP } from "../kinds/reservedip.js";
import type { Log } from "../ports.js";

export interface CommitOptions {
  /** SpiderReservedIP addresses of a family. */
  reserved: (family: Family) => IPSet;
  now: number;
  coolDownMs: number;
  /** Why the pool may allocate nothing new right now (its record is being rebuilt), if so. */
  blocked?: (pool: SpiderIPPool) => string | undefined;
}

export interface Committed {
  /** One answer per request, in order. */
  answers: PoolResponse[];
  /** The pool to write, or undefined when the requests change nothing (repeats, refusals). */
  next?: SpiderIPPool;
}

/**
 * Applies requests to one pool object: the pool's view is derived once, the core applies
 * the requests in order, and the result is the pool object to write with one
 * compare-and-swap. A terminating or disabled pool refuses new allocations but still
 * releases and binds.
 */
export function commitToPool(pool: SpiderIPPool, requests: readonly PoolRequest[], o: CommitOptions): Committed {
  const name = pool.metadata.name ?? "";
  const view = buildPoolView(pool, o.reserved(specFamily(name, pool.spec)));
  const refuse = pool.metadata.deletionTimestamp ? "is being deleted" : pool.spec.disable ? "is disabled" : blockedBecause(pool, requests, o);
  const state = decodeAllocations(pool.status?.allocations, view.subnet);
  const runnable = requests.filter((r) => !(refuse && r.kind === "allocate"));
  const { state: next, results } = applyPoolRequests(view, state, runnable, { now: o.now, coolDownMs: o.coolDownMs });
  let k = 0;
  const answers: PoolResponse[] = requests.map((r) =>
    refuse && r.kind === "allocate"
      ? { ok: false, kind: "allocate", error: new IpamError("POOL_NOT_ALLOWED", `pool ${name} ${refuse}; it allocates nothing new`, { pool: name }) }
      : (results[k++] as PoolResponse),
  );
  const text = encodeAllocations(next, view.subnet);
  if (text === (pool.status?.allocations ?? encodeAllocations(state, view.subnet))) return { answers };
  const usage = poolUsage(view, next);
  return {
    answers,
    next: { ...pool, status: { ...pool.status, allocations: text, allocatedIPCount: usage.allocated, totalIPCount: usage.total } },
  };
}

/** The guard's reason, asked only when the batch allocates. */
function blockedBecause(pool: SpiderIPPool, requests: readonly PoolRequest[], o: CommitOptions): string | undefined {
  if (!o.blocked || !requests.some((r) => r.kind === "allocate")) return undefined;
  const why = o.blocked(pool);
  return why === undefined ? undefined : `cannot be trusted: ${why}; the controller is rebuilding it, try again in a moment`;
}

/**
 * The SpiderReservedIP addresses of a family, from a cache. An object that cannot be read
 * (stored before the validating webhook ran, or written around it) is skipped and reported
 * by name, once per version; every other object's addresses stay reserved.
 */
export function reservedFrom(list: () => readonly SpiderReservedIP[], log: Log): (family: Family) => IPSet {
  const reported = new Set<string>();
  return (family) => {
    let set = IPSet.empty(family);
    for (const obj of list()) {
      try {
        set = set.union(reservedAddresses(family, [obj]));
      } catch (err) {
        const version = `${obj.metadata.name ?? ""}@${obj.metadata.resourceVersion ?? ""}`;
        if (!reported.has(version)) log.error({ err, reservedIP: obj.metadata.name }, `SpiderReservedIP ${obj.metadata.name ?? ""} cannot be read and is skipped (its addresses are not protected until it is fixed); the other reserved addresses stay reserved`);
        reported.add(version);
      }
    }
    return set;
  };
}
