import { decodeAllocations } from "../allocation/codec.js";
import { buildPoolView } from "../allocation/pool-view.js";
import { expiredReservations, type PendingReservation, type PoolAllocations } from "../allocation/state.js";
import { parseAssignedIPs } from "../annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../annotations/keys.js";
import type { SpiderIPPool } from "../kinds/ippool.js";
import type { PodLike } from "../kinds/pod.js";
import type { Allocator, Cache, Clock, Log } from "../ports.js";
import { isStockReservation } from "./reservation-id.js";

export interface ReservationGcDeps {
  pools: Cache<SpiderIPPool>;
  /** The Pod (ns/name) carrying this reservation in its annotation, as the cache knows it. */
  podWithReservation: (reservation: string) => string | undefined;
  /**
   * A live read of every Pod carrying a reservation (reservation id -> ns/name). Asked at
   * most once per pass, and only when the cache finds no Pod for an expired reservation: a
   * watch stale for longer than a lifetime must not free a live Pod's addresses.
   */
  livePodsByReservation: () => Promise<ReadonlyMap<string, string>>;
  /**
   * Refused Pods: a reservation younger than its lifetime but older than `graceMs` (its
   * lifetime being `ttlMs`) is looked for too, so that the addresses of a Pod refused after
   * the webhook (quota, policy, a name already taken) come back within seconds. Without
   * them only expired reservations are collected.
   */
  refused?: { graceMs: number; ttlMs: number };
  /** A live GET of one Pod, for reservations that name theirs (404: undefined). */
  livePod?: (namespace: string, name: string) => Promise<PodLike | undefined>;
  /** Binds instead, when a Pod turns out to carry the reservation. */
  bind: (podKey: string) => void;
  allocator: Allocator;
  clock: Pick<Clock, "now">;
  log: Log;
  onRelease?: (count: number) => void;
}

/**
 * Releases reservations that never became a Pod (a later admission step refused the Pod,
 * a quota, a client that gave up) once their TTL has passed. It looks again first, live: a
 * reservation whose Pod exists after all is bound, not released.
 */
export async function collectExpiredReservations(d: ReservationGcDeps): Promise<number> {
  let released = 0;
  const now = d.clock.now();
  let live: Promise<ReadonlyMap<string, string>> | undefined;
  const podOf = async (res: PendingReservation): Promise<string | undefined> => {
    const cached = d.podWithReservation(res.id);
    if (cached) return cached;
    // A reservation made for a named Pod: one GET says whether that Pod holds it.
    const named = res.owner ? podKeyParts(res.owner) : undefined;
    if (named && d.livePod) return namedPodWith(named, res.id, d.livePod);
    return (await (live ??= d.livePodsByReservation())).get(res.id);
  };
  // Old enough: past its lifetime, or (refused Pods) past the grace with no Pod to show for it.
  const due = d.refused ? Math.max(now, now + d.refused.ttlMs - d.refused.graceMs) : now;
  for (const pool of d.pools.list()) {
    const name = pool.metadata.name ?? "";
    let expired;
    try {
      expired = collectable(decodeAllocations(pool.status?.allocations, buildPoolView(pool).subnet), due, now);
    } catch (err) {
      d.log.warn({ err, pool: name }, "pool record cannot be read; skipped by the reservation collector");
      continue;
    }
    for (const res of expired) {
      const pod = await podOf(res);
      if (pod) {
        d.bind(pod);
        continue;
      }
      const answer = await d.allocator.submit(name, { kind: "release-reservation", reservation: res.id });
      if (answer.ok && answer.kind === "release-reservation" && answer.found) {
        released += answer.released.length;
        d.log.info({ pool: name, reservation: res.id, owner: res.owner, addresses: answer.released.length, expired: res.expiresAt <= now }, res.expiresAt <= now ? "expired reservation released" : "reservation of a Pod never created released");
      }
    }
  }
  if (released > 0) d.onRelease?.(released);
  return released;
}

/**
 * The reservations old enough to look at: due by `due` (past the refused-Pod grace), except
 * those made ahead (stock.ts), which may be handed to a Pod until shortly before they expire,
 * so that their age says nothing about a refused Pod: only their expiry (`now`) counts.
 */
function collectable(state: PoolAllocations, due: number, now: number): PendingReservation[] {
  return expiredReservations(state, due).filter((r) => r.expiresAt <= now || !isStockReservation(r.id));
}

/** The namespace and name of an owner "namespace/name"; undefined when one is missing (an owner from a review written by hand may lack its namespace, and a GET without one is refused). */
function podKeyParts(owner: string): { namespace: string; name: string } | undefined {
  const slash = owner.indexOf("/");
  return slash > 0 && slash < owner.length - 1 ? { namespace: owner.slice(0, slash), name: owner.slice(slash + 1) } : undefined;
}

/** "ns/name" when the live Pod of that name carries reservation `id`; a Pod of that name holding another reservation is another Pod. */
async function namedPodWith(owner: { namespace: string; name: string }, id: string, livePod: NonNullable<ReservationGcDeps["livePod"]>): Promise<string | undefined> {
  const pod = await livePod(owner.namespace, owner.name);
  const text = pod?.metadata.annotations?.[ANNO_ASSIGNED_IPS];
  if (!text) return undefined;
  try {
    return parseAssignedIPs(text).reservation === id ? `${owner.namespace}/${owner.name}` : undefined;
  } catch {
    return undefined;
  }
}
