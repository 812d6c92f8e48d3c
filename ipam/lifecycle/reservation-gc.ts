import { decodeAllocations } from "../allocation/codec.js";
import { buildPoolView } from "../allocation/pool-view.js";
import { expiredReservations } from "../allocation/state.js";
import type { SpiderIPPool } from "../kinds/ippool.js";
import type { Allocator, Cache, Clock, Log } from "../ports.js";

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
  const podOf = async (id: string): Promise<string | undefined> => d.podWithReservation(id) ?? (await (live ??= d.livePodsByReservation())).get(id);
  for (const pool of d.pools.list()) {
    const name = pool.metadata.name ?? "";
    let expired;
    try {
      expired = expiredReservations(decodeAllocations(pool.status?.allocations, buildPoolView(pool).subnet), now);
    } catch (err) {
      d.log.warn({ err, pool: name }, "pool record cannot be read; skipped by the reservation collector");
      continue;
    }
    for (const res of expired) {
      const pod = await podOf(res.id);
      if (pod) {
        d.bind(pod);
        continue;
      }
      const answer = await d.allocator.submit(name, { kind: "release-reservation", reservation: res.id });
      if (answer.ok && answer.kind === "release-reservation" && answer.found) {
        released += answer.released.length;
        d.log.info({ pool: name, reservation: res.id, owner: res.owner, addresses: answer.released.length }, "expired reservation released");
      }
    }
  }
  if (released > 0) d.onRelease?.(released);
  return released;
}
