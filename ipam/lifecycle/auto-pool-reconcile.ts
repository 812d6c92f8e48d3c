import { parseCIDR } from "../address/cidr.js";
import { decodeAllocations } from "../allocation/codec.js";
import { isApplicationKind, type ApplicationKind, type Workload } from "../kinds/application.js";
import { AUTO_POOL_BOUND_AT, AUTO_POOL_SIZED_AT, autoPoolOwner, type AutoPoolOwner } from "../kinds/auto-pool.js";
import type { SpiderIPPool } from "../kinds/ippool.js";
import type { ApplicationDirectory, Cache, Clock, Log, ObjectStore } from "../ports.js";
import { poolIPs, type AutoPoolCarver } from "./auto-pool-carver.js";

export interface AutoPoolReconcilerDeps {
  pools: Cache<SpiderIPPool>;
  store: Pick<ObjectStore<SpiderIPPool>, "delete">;
  apps: ApplicationDirectory;
  /** The size an application's pool should have now (undefined: leave its size alone). */
  wantedSize: (kind: ApplicationKind, w: Workload) => number | undefined;
  carver: Pick<AutoPoolCarver, "shrink">;
  clock: Pick<Clock, "now">;
  log: Log;
  /**
   * The reservation lifetime. A pool none of whose addresses a Pod has held for this long
   * gives them all back (its application's Pods cannot be created: a quota, a bad template);
   * and a pool bound to its application more recently is not judged orphaned (the
   * application may not be readable yet: admission runs before it is stored).
   */
  idleMs: number;
}

/** When a pool was last found holding nothing, and the addresses it had then. */
interface Idle {
  since: number;
  ips: string;
}

const timeOf = (v: string | Date | undefined): number | undefined => (v === undefined ? undefined : new Date(v).getTime());

/**
 * Keeps automatic pools the size of their applications (api.md "Auto pools"), on the leader:
 *  - a pool larger than its application wants gives back free addresses (a scale-down, once
 *    the removed Pods released theirs); never one held or pending;
 *  - a pool no Pod has held anything of for the reservation lifetime gives back everything
 *    (Pod admission grows it again when its Pods come);
 *  - a pool whose application is gone (looked up again, live) is deleted, its addresses going
 *    back to the subnet once its Pods released them; unless ippool-reclaim is "false", when it
 *    waits for the next application of the same kind, namespace and name.
 * Returns when to look at the pool again, if the answer depends on time passing.
 */
export class AutoPoolReconciler {
  private readonly idle = new Map<string, Idle>();

  constructor(private readonly d: AutoPoolReconcilerDeps) {}

  async reconcile(name: string): Promise<number | undefined> {
    const pool = this.d.pools.get(name);
    const owner = pool ? autoPoolOwner(pool) : undefined;
    if (!pool || !owner || pool.metadata.deletionTimestamp) {
      this.idle.delete(name);
      return undefined;
    }
    const workload = await this.applicationOf(owner, (ref) => this.d.apps.get(ref));
    if (!workload) return this.orphaned(pool, owner);
    const wanted = isApplicationKind(owner.kind) ? this.d.wantedSize(owner.kind, workload) : undefined;
    const { target, again } = this.target(pool, wanted);
    const size = Number(poolIPs(pool, owner.family).size());
    if (target === undefined || size <= target) return again;
    // Grown a moment ago by an admission the caches may not show yet: look again later.
    const grown = this.sinceSized(pool);
    if (target > 0 && grown > 0) return Math.min(grown, again ?? grown);
    await this.d.carver.shrink(name, target);
    // A resized pool is idle afresh: its next look starts the clock again.
    this.idle.delete(name);
    return again;
  }

  /** How long until a pool's last growth is a grace old (0 or less: it is). */
  private sinceSized(pool: SpiderIPPool): number {
    const sized = timeOf(pool.metadata.annotations?.[AUTO_POOL_SIZED_AT]) ?? timeOf(pool.metadata.creationTimestamp) ?? 0;
    return sized + this.d.idleMs - this.d.clock.now();
  }

  /** The owner object, if it is the pool's very application (same uid). */
  private async applicationOf(owner: AutoPoolOwner, read: ApplicationDirectory["get"]): Promise<Workload | undefined> {
    const w = await read({ apiVersion: owner.apiVersion, kind: owner.kind, namespace: owner.namespace, name: owner.name });
    return w?.metadata.uid === owner.uid && !w.metadata.deletionTimestamp ? w : undefined;
  }

  /** The application seems gone: past the grace, looked up live, the pool goes (or waits for the next one, reclaim "false"). */
  private async orphaned(pool: SpiderIPPool, owner: AutoPoolOwner): Promise<number | undefined> {
    const name = pool.metadata.name ?? "";
    const bound = timeOf(pool.metadata.annotations?.[AUTO_POOL_BOUND_AT]) ?? timeOf(pool.metadata.creationTimestamp) ?? 0;
    const young = bound + this.d.idleMs - this.d.clock.now();
    if (young > 0) return young;
    if (await this.applicationOf(owner, (ref) => this.d.apps.read(ref))) return undefined;
    this.idle.delete(name);
    if (!owner.reclaim) {
      this.d.log.debug({ pool: name, app: `${owner.kind}/${owner.namespace}/${owner.name}` }, "application gone; pool kept for the next one of its name (ippool-reclaim false)");
      return undefined;
    }
    // Only the pool as judged: one taken over meanwhile (new owner labels) is not deleted.
    await this.d.store.delete(name, undefined, { uid: pool.metadata.uid, resourceVersion: pool.metadata.resourceVersion });
    this.d.log.info({ pool: name, app: `${owner.kind}/${owner.namespace}/${owner.name}` }, "application gone; its automatic pool is deleted and its addresses go back to the subnet");
    return undefined;
  }

  /** The size the pool should shrink to: none while idle for less than the lifetime, then 0; else what its application wants. */
  private target(pool: SpiderIPPool, wanted: number | undefined): { target?: number; again?: number } {
    const name = pool.metadata.name ?? "";
    let state;
    try {
      state = decodeAllocations(pool.status?.allocations, parseCIDR(pool.spec.subnet));
    } catch (err) {
      this.d.log.warn({ pool: name, err }, "pool record cannot be read; its size is left alone");
      return {};
    }
    if (state.runs.length > 0 || state.pending.length > 0) {
      this.idle.delete(name);
      return wanted === undefined ? {} : { target: wanted };
    }
    const now = this.d.clock.now();
    const ips = JSON.stringify(pool.spec.ips ?? []);
    const was = this.idle.get(name);
    // Idle since now, unless it already was with the same addresses (a resize starts it afresh).
    const idle = was && was.ips === ips ? was : { since: now, ips };
    this.idle.set(name, idle);
    const left = idle.since + this.d.idleMs - now;
    if (left <= 0) return { target: 0 };
    return { ...(wanted === undefined ? {} : { target: wanted }), again: left };
  }
}
