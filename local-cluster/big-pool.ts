import type { KubeConfig } from "@kubernetes/client-node";
import { IPSet } from "../ipam/address/ipset.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../ipam/kinds/ippool.js";
import type { PoolResponse } from "../ipam/allocation/requests.js";
import { PoolWriter } from "../ipam/lifecycle/pool-writer.js";
import type { Log } from "../ipam/ports.js";
import { CustomResources } from "../k8s/resources.js";
import { systemClock } from "../runtime/clock.js";

/**
 * Large pools on the real apiserver: reservations written through the pool writer's batch
 * path (group commit: requests that arrive while a write is in flight go together in the
 * next compare-and-swap), as a burst of admissions would, but without the Pods.
 */
export interface Filled {
  /** Status writes the fill took (the writer's group commits). */
  writes: number;
  ms: number;
  responses: PoolResponse[];
}

/** A pool writer of its own over the real store (another replica, as far as the controllers can tell). */
export function benchWriter(kc: KubeConfig, log: Log, onWrite?: () => void): PoolWriter {
  const store = new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL);
  return new PoolWriter({ store, cached: () => undefined, reserved: (f) => IPSet.empty(f), clock: systemClock, coolDownMs: 0, log, onWrite });
}

/**
 * Submits `count` reservations (one address each, ids `<prefix>-<i>`, expiring at
 * `expiresAt`) to `pool` at once and waits for every one to be stored.
 */
export async function fillReservations(kc: KubeConfig, log: Log, fill: { pool: string; count: number; prefix: string; expiresAt: number }): Promise<Filled> {
  let writes = 0;
  const writer = benchWriter(kc, log, () => writes++);
  const started = performance.now();
  const responses = await Promise.all(
    Array.from({ length: fill.count }, (_, i) => writer.submit(fill.pool, { kind: "allocate", interface: "eth0", reservation: { id: `${fill.prefix}-${i}`, owner: `bench/${fill.prefix}-${i}`, expiresAt: fill.expiresAt } })),
  );
  return { writes, ms: performance.now() - started, responses };
}

/** Releases the reservations `fillReservations` made, in one batch. */
export async function releaseReservations(kc: KubeConfig, log: Log, fill: { pool: string; count: number; prefix: string }): Promise<void> {
  const writer = benchWriter(kc, log);
  await Promise.all(Array.from({ length: fill.count }, (_, i) => writer.submit(fill.pool, { kind: "release-reservation", reservation: `${fill.prefix}-${i}` })));
}
