import type { SpiderEndpoint } from "../../ipam/kinds/endpoint.js";
import type { SpiderIPPool } from "../../ipam/kinds/ippool.js";
import type { PodLike } from "../../ipam/kinds/pod.js";
import { liveClaims } from "../../ipam/lifecycle/owners.js";
import { rebuildPool, untrustedRecord, wipedRecord } from "../../ipam/lifecycle/pool-rebuild.js";
import type { Cache, Clock, EventRecorder, Log, ObjectStore } from "../../ipam/ports.js";
import type { LiveReads } from "./live-reads.js";

export interface PoolRecoveryDeps {
  endpoints: Cache<SpiderEndpoint>;
  pods: Cache<PodLike>;
  live: LiveReads;
  poolStore: Pick<ObjectStore<SpiderIPPool>, "get" | "replaceStatus">;
  clock: Pick<Clock, "now">;
  /** The lifetime given again to reservations of Pods admitted but not yet bound. */
  ttlMs: number;
  event: EventRecorder;
  log: Log;
}

const mentions = (text: string | undefined, pool: string): boolean => text !== undefined && text.includes(`"${pool}"`);

/**
 * A pool whose status was wiped or corrupted: every replica refuses to allocate from it
 * (`blocked`, the pool writer's guard), and the leader rebuilds its record from the
 * SpiderEndpoints and live Pods (`rebuildIfNeeded`, from the pool status reconciler).
 */
export class PoolRecovery {
  constructor(private readonly d: PoolRecoveryDeps) {}

  /** Whether some endpoint or Pod annotation in the caches names the pool (cheap; asked only for an empty record). */
  private claimsIn(pool: string): boolean {
    for (const ep of this.d.endpoints.list()) if (ep.status?.current?.ips.some((n) => n.ipv4Pool === pool || n.ipv6Pool === pool)) return true;
    for (const p of this.d.pods.list()) if (mentions(p.metadata.annotations?.["ipam.spidernet.io/assigned-ips"], pool)) return true;
    return false;
  }

  /** The pool writer's guard: why the pool may hand out nothing now, if so (cheap: no decoding). */
  readonly blocked = (pool: SpiderIPPool): string | undefined => wipedRecord(pool, (name) => this.claimsIn(name));

  /** Rebuilds the pool's record when it cannot be trusted, judged on live reads; true when the pool was untrusted. */
  async rebuildIfNeeded(cached: SpiderIPPool): Promise<boolean> {
    if (!untrustedRecord(cached, (name) => this.claimsIn(name))) return false;
    const name = cached.metadata.name ?? "";
    const pool = await this.d.poolStore.get(name);
    if (!pool) return true;
    const [endpoints, pods] = await Promise.all([this.d.live.endpoints(), this.d.live.pods()]);
    const claims = liveClaims(endpoints, pods);
    const why = untrustedRecord(pool, (p) => claims.some((c) => c.pool === p));
    if (!why) return false;
    const rebuilt = rebuildPool(pool, { endpoints, pods, now: this.d.clock.now(), ttlMs: this.d.ttlMs });
    await this.d.poolStore.replaceStatus(rebuilt);
    const held = rebuilt.status?.allocatedIPCount ?? 0;
    this.d.log.warn({ pool: name, why, held }, "pool allocation record rebuilt from SpiderEndpoints and Pods");
    await this.d.event({ apiVersion: pool.apiVersion ?? "spiderpool.spidernet.io/v2beta1", kind: "SpiderIPPool", metadata: pool.metadata }, "Warning", "AllocationRecordRebuilt", `${why}; rebuilt from SpiderEndpoints and Pods: ${held} addresses held`);
    return true;
  }
}
