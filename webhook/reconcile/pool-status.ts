import { isDeepStrictEqual } from "node:util";
import { parseCIDR, type CIDR } from "../../ipam/address/cidr.js";
import type { Family } from "../../ipam/address/ip.js";
import { IPSet } from "../../ipam/address/ipset.js";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { buildPoolView, saturatingCount } from "../../ipam/allocation/pool-view.js";
import { poolUsage } from "../../ipam/allocation/usage.js";
import { AUTO_POOL_LABELS } from "../../ipam/kinds/auto-pool.js";
import { defaultIPPool, listSet, POOL_FINALIZER, subnetOfPool } from "../../ipam/kinds/ippool-admission.js";
import type { SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { sameNetwork, tryParse } from "../../ipam/kinds/spec-rules.js";
import type { SpiderSubnet, SubnetStatus } from "../../ipam/kinds/subnet.js";
import type { Cache, Clock, Log, ObjectStore } from "../../ipam/ports.js";
import type { StartedInformer } from "../../k8s/informer.js";
import { WorkQueue } from "../../runtime/work-queue.js";
import type { LeaderTask } from "./leader-task.js";

export interface PoolReconcilerDeps {
  pools: Cache<SpiderIPPool>;
  subnets: Cache<SpiderSubnet>;
  poolApi: ObjectStore<SpiderIPPool>;
  subnetApi: ObjectStore<SpiderSubnet>;
  log: Log;
  /** Measures how long ago an automatic pool's addresses were set aside. */
  clock: Pick<Clock, "now">;
  /** Rebuilds a pool whose allocation record cannot be trusted; true when it could not be (so the status is left alone). */
  rebuild?: (pool: SpiderIPPool) => Promise<boolean>;
}

/** How long an automatic pool's carve-out survives without its pool. */
const CARVE_GRACE_MS = 5 * 60 * 1000;

type ControlledPools = NonNullable<SubnetStatus["controlledIPPools"]>;
type ControlledPool = ControlledPools[string];


/** A pool's line in its subnet's status: the addresses it holds and, for an automatic pool, its application. */
function controlEntry(pool: SpiderIPPool, ips: IPSet): ControlledPool {
  const labels = pool.metadata.labels;
  const app = labels?.[AUTO_POOL_LABELS.name];
  const kind = labels?.[AUTO_POOL_LABELS.kind];
  const ns = labels?.[AUTO_POOL_LABELS.namespace];
  return { ips: ips.toStrings(), ...(app ? { application: `${kind ?? ""}/${ns ?? ""}/${app}` } : {}) };
}

/**
 * Keeps pools and subnets true to themselves:
 *  - a pool's status counters match its spec and its allocation record;
 *  - a terminating pool loses its finalizer once nothing is allocated from it;
 *  - a pool on a SpiderSubnet's CIDR is adopted (owner reference, inherited gateway/routes);
 *  - a subnet's status lists the pools holding its addresses and counts them.
 * Every write is compare-and-swap on the cached object's resourceVersion; a lost race
 * throws, and the queue retries with the fresh object.
 */
export class PoolReconciler {
  constructor(private readonly d: PoolReconcilerDeps) {}

  async reconcilePool(name: string): Promise<void> {
    const pool = this.d.pools.get(name);
    if (!pool) return;
    // A wiped or corrupted record is rebuilt first; its write brings the pool back here.
    if (this.d.rebuild && (await this.d.rebuild(pool))) return;
    const log = this.d.log.child({ pool: name });
    let view;
    try {
      view = buildPoolView(pool);
    } catch (err) {
      log.warn({ err }, "pool spec cannot be parsed; leaving its status alone");
      return;
    }
    const state = decodeAllocations(pool.status?.allocations, view.subnet);
    const usage = poolUsage(view, state);
    if (pool.metadata.deletionTimestamp) {
      const finalizers = pool.metadata.finalizers ?? [];
      if (usage.allocated === 0 && state.pending.length === 0 && finalizers.includes(POOL_FINALIZER)) {
        await this.d.poolApi.replace({ ...pool, metadata: { ...pool.metadata, finalizers: finalizers.filter((f) => f !== POOL_FINALIZER) } });
        log.info({}, "no address in use; finalizer removed, the pool goes");
      }
      return;
    }
    const adopted = defaultIPPool(pool, { subnets: this.d.subnets.list() }, false);
    if (!isDeepStrictEqual(adopted.metadata.ownerReferences, pool.metadata.ownerReferences)) {
      await this.d.poolApi.replace(adopted);
      log.info({ subnet: adopted.metadata.ownerReferences?.find((r) => r.kind === "SpiderSubnet")?.name }, "pool adopted by its subnet");
      return; // the update event brings it back here for the status
    }
    const status = { ...pool.status, totalIPCount: usage.total, allocatedIPCount: usage.allocated };
    if (!isDeepStrictEqual(status, pool.status)) {
      await this.d.poolApi.replaceStatus({ ...pool, status });
    }
  }

  async reconcileSubnet(name: string): Promise<void> {
    const subnet = this.d.subnets.get(name);
    if (!subnet || subnet.metadata.deletionTimestamp) return;
    let cidr: CIDR;
    let usable: IPSet;
    try {
      cidr = parseCIDR(subnet.spec.subnet);
      usable = listSet(subnet.spec.ips, cidr.family).difference(listSet(subnet.spec.excludeIPs, cidr.family));
    } catch (err) {
      this.d.log.warn({ err, subnet: name }, "subnet spec cannot be parsed; leaving its status alone");
      return;
    }
    const handed = this.handedOut(subnet, cidr.family, usable);
    const status: SubnetStatus = {
      controlledIPPools: handed.controlled,
      allocatedIPCount: saturatingCount(handed.ips.size()),
      totalIPCount: saturatingCount(usable.size()),
    };
    if (!isDeepStrictEqual(status, subnet.status)) await this.d.subnetApi.replaceStatus({ ...subnet, status });
  }

  /** The subnet's addresses its pools hold, and those set aside for automatic pools not created yet. */
  private handedOut(subnet: SpiderSubnet, family: Family, usable: IPSet): { controlled: ControlledPools; ips: IPSet } {
    const controlled: ControlledPools = {};
    let ips = IPSet.empty(family);
    for (const pool of this.d.pools.list()) {
      if (subnetOfPool(pool, [subnet]) === undefined) continue;
      const held = tryParse(() => listSet(pool.spec.ips, family).intersection(usable));
      if (held === undefined) continue;
      const name = pool.metadata.name ?? "";
      const line = this.entryOf(pool, held, subnet.status?.controlledIPPools?.[name], family);
      ips = ips.union(line.ips);
      controlled[name] = line.entry;
    }
    // Addresses an automatic pool's admission set aside moments ago, before its pool
    // exists: they stay reserved for a while, or two applications could carve them twice.
    for (const [pool, entry] of Object.entries(subnet.status?.controlledIPPools ?? {})) {
      if (!(pool in controlled) && this.young(entry)) {
        controlled[pool] = entry;
        ips = ips.union(listSet(entry.ips, family));
      }
    }
    return { controlled, ips };
  }

  /** Whether an entry is a carve-out set aside less than the grace ago (not yet in its pool's spec). */
  private young(entry: ControlledPool | undefined): entry is ControlledPool {
    return entry?.reservedAt !== undefined && this.d.clock.now() - Date.parse(entry.reservedAt) < CARVE_GRACE_MS;
  }

  /**
   * A pool's line: what its spec holds, plus what was set aside for it to grow into while
   * that write has not landed yet (young, and not all in the spec). Once the spec holds it,
   * the carve-out is spent: later the pool may shrink and give addresses back at once.
   */
  private entryOf(pool: SpiderIPPool, held: IPSet, previous: ControlledPool | undefined, family: Family): { entry: ControlledPool; ips: IPSet } {
    const aside = this.young(previous) ? tryParse(() => listSet(previous.ips, family)) : undefined;
    if (!aside || held.containsSet(aside)) return { entry: controlEntry(pool, held), ips: held };
    const ips = held.union(aside);
    return { entry: { ...controlEntry(pool, ips), ...(previous?.reservedAt ? { reservedAt: previous.reservedAt } : {}) }, ips };
  }

  /** The subnets a pool event concerns: the one on its CIDR, if any. */
  subnetsOfPool(pool: SpiderIPPool): string[] {
    const s = subnetOfPool(pool, this.d.subnets.list());
    return s?.metadata.name ? [s.metadata.name] : [];
  }

  /** The pools a subnet event concerns: those on its CIDR. */
  poolsOfSubnet(subnet: SpiderSubnet): string[] {
    let cidr;
    try {
      cidr = parseCIDR(subnet.spec.subnet);
    } catch {
      return [];
    }
    return this.d.pools
      .list()
      .filter((p) => {
        try {
          return sameNetwork(parseCIDR(p.spec.subnet), cidr);
        } catch {
          return false;
        }
      })
      .map((p) => p.metadata.name ?? "");
  }
}

/**
 * The leader task that keeps pool and subnet status true: every pool or subnet event queues
 * the object and the ones on its CIDR (a pool's counters depend on its subnet, a subnet's
 * list on its pools).
 */
export class PoolStatusSync implements LeaderTask {
  private readonly reconciler: PoolReconciler;
  private readonly queue: WorkQueue;
  private leading = false;

  constructor(private readonly d: PoolReconcilerDeps & { pools: StartedInformer<SpiderIPPool>; subnets: StartedInformer<SpiderSubnet> }) {
    this.reconciler = new PoolReconciler(d);
    this.queue = new WorkQueue("pools", async (key) => {
      const [kind, name] = key.split("/", 2) as [string, string];
      if (kind === "pool") await this.reconciler.reconcilePool(name);
      else await this.reconciler.reconcileSubnet(name);
    }, d.log);
    for (const ev of ["add", "update", "delete"] as const) {
      d.pools.on(ev, (p) => this.onPool(p));
      d.subnets.on(ev, (s) => this.onSubnet(s));
    }
  }

  private onPool(p: SpiderIPPool): void {
    if (!this.leading) return;
    this.queue.add(`pool/${p.metadata.name ?? ""}`);
    for (const s of this.reconciler.subnetsOfPool(p)) this.queue.add(`subnet/${s}`);
  }

  private onSubnet(s: SpiderSubnet): void {
    if (!this.leading) return;
    this.queue.add(`subnet/${s.metadata.name ?? ""}`);
    for (const p of this.reconciler.poolsOfSubnet(s)) this.queue.add(`pool/${p}`);
  }

  startLeading(): void {
    this.leading = true;
    void Promise.all([this.d.pools.synced, this.d.subnets.synced]).then(() => {
      for (const p of this.d.pools.list()) this.onPool(p);
      for (const s of this.d.subnets.list()) this.onSubnet(s);
    });
  }

  stopLeading(): void {
    this.leading = false;
  }

  settled(): Promise<void> {
    return this.queue.idle();
  }

  stop(): void {
    this.stopLeading();
    this.queue.stop();
  }
}
