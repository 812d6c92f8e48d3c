import { ANNO_SUBNET, ANNO_SUBNETS } from "../annotations/keys.js";
import { KeyedLanes } from "../lanes.js";
import { parseCIDR, type CIDR } from "../address/cidr.js";
import type { Family } from "../address/ip.js";
import { IPSet } from "../address/ipset.js";
import { decodeAllocations } from "../allocation/codec.js";
import { IpamError, isIpamError } from "../errors.js";
import {
  AUTO_POOL_APPLICATION,
  AUTO_POOL_BOUND_AT,
  AUTO_POOL_LABELS,
  AUTO_POOL_SIZED_AT,
  autoPoolLabels,
  autoPoolNames,
  autoPoolOwner,
  formatApplication,
  highest,
  lowest,
  servesApplication,
  type Application,
} from "../kinds/auto-pool.js";
import { listSet, POOL_FINALIZER } from "../kinds/ippool-admission.js";
import type { SpiderIPPool } from "../kinds/ippool.js";
import { API_VERSION, type LabelSelector } from "../kinds/meta.js";
import { sameNetwork, tryParse } from "../kinds/spec-rules.js";
import type { SpiderSubnet } from "../kinds/subnet.js";
import { ConflictError, type Cache, type Clock, type Log, type ObjectStore } from "../ports.js";
import { retry, type RetryPolicy } from "../retry.js";

/** What one NIC and family of an application needs from its automatic pool. */
export interface AutoPoolTarget {
  app: Application;
  /** The application's Pod selector, the pool's podAffinity (none: owner and namespace bind it). */
  selector?: LabelSelector;
  interface: string;
  family: Family;
  /** Candidate SpiderSubnets, in the order the application wrote them. */
  subnets: readonly string[];
  /** How many addresses the pool must hold at least. */
  size: number;
  /** Whether the pool goes with its application (ippool-reclaim). */
  reclaim: boolean;
  /** Work out the pool a dry run would use, writing nothing. */
  dryRun: boolean;
}

export interface CarverDeps {
  pools: ObjectStore<SpiderIPPool>;
  subnets: ObjectStore<SpiderSubnet>;
  /** The informer's pools (possibly behind): other pools' addresses, and the fast path. */
  poolCache: Cache<SpiderIPPool>;
  /** SpiderReservedIP addresses of a family, never carved. */
  reserved: (family: Family) => IPSet;
  clock: Clock;
  log: Log;
}

const CARVE_RETRY: RetryPolicy = { attempts: 11, baseMs: 20, maxMs: 200, jitter: true };

/** The SpiderSubnet a pool is carved from, as read for this round. */
interface CarveSource {
  name: string;
  subnet: SpiderSubnet;
  cidr: CIDR;
}

/** The application's pool as found this round: its own, one to take over, or a free name for a new one. */
interface Found {
  own?: SpiderIPPool;
  takeover?: SpiderIPPool;
  freeName?: string;
}

const withIPs = (pool: SpiderIPPool, ips: IPSet): SpiderIPPool => ({ ...pool, spec: { ...pool.spec, ips: ips.toStrings() } });

const deleting = (p: SpiderIPPool): boolean => p.metadata.deletionTimestamp !== undefined;

const who = (app: Application): string => `${app.kind} ${app.namespace}/${app.name}`;

/** The pool's addresses, empty when its spec does not parse. */
export const poolIPs = (p: SpiderIPPool, family: Family): IPSet => tryParse(() => listSet(p.spec.ips, family)) ?? IPSet.empty(family);

/**
 * Carves automatic pools out of SpiderSubnets and hands addresses back. The subnet's status
 * is the compare-and-swap point between applications: addresses are set aside there
 * (controlledIPPools) before the pool is written, so two applications never carve the same
 * addresses, whichever replica serves them. Used by application admission (sizing before
 * the Pods come), Pod admission (a pool its application's admission did not make, or a
 * third-party owner's), and the reconciler that shrinks pools after a scale-down.
 */
export class AutoPoolCarver {
  /**
   * The carves of one subnet run on this replica one after the other, in a lane per subnet.
   * They all write the subnet's status, so run together they lose each other's
   * compare-and-swaps: with ten Deployments created at once most carves retried until the
   * application webhook's deadline passed. In a lane each carve reads the subnet its
   * predecessor wrote and wins its write; only another replica's carve can still make it retry.
   */
  private readonly lanes = new KeyedLanes();

  constructor(private readonly d: CarverDeps) {}

  /** The application's pool for this NIC and family, created, taken over or grown to hold at least `t.size` addresses (as stored now). */
  async ensure(t: AutoPoolTarget): Promise<SpiderIPPool> {
    // The usual case at Pod admission: the application's admission sized the pool already.
    const cached = this.cachedOwn(t);
    if (cached && Number(poolIPs(cached, t.family).size()) >= t.size && autoPoolOwner(cached)?.reclaim === t.reclaim) return cached;
    const subnets = await this.subnetsFor(t);
    const failures: string[] = [];
    for (const subnetName of subnets) {
      try {
        const carve = (): Promise<SpiderIPPool> => retry(() => this.ensureIn(subnetName, t), { policy: CARVE_RETRY, clock: this.d.clock, retryable: (err) => err instanceof ConflictError });
        return await (t.dryRun ? carve() : this.lanes.run(subnetName, carve));
      } catch (err) {
        if (!isIpamError(err, "POOL_EXHAUSTED")) throw err;
        failures.push(err.message);
      }
    }
    throw new IpamError(
      "POOL_EXHAUSTED",
      `${who(t.app)} needs ${t.size} addresses for ${t.interface}: ${failures.join("; ")}; add addresses to the subnet or lower ipam.spidernet.io/ippool-ip-number`,
      { pool: autoPoolNames(t.family, t.app, t.interface)[0] },
    );
  }

  /** The application's pool in the informer's cache, under whatever name it has. */
  private cachedOwn(t: AutoPoolTarget): SpiderIPPool | undefined {
    return this.d.poolCache.list().find((p) => !deleting(p) && servesApplication(p, t.app, t.interface, t.family));
  }

  /** The subnets to try: the candidates, or only the one the application's pool is already in (changing it is refused). */
  private async subnetsFor(t: AutoPoolTarget): Promise<readonly string[]> {
    const own = (await this.find(t)).own;
    if (!own) return t.subnets;
    const current = autoPoolOwner(own)?.subnet ?? "";
    const same = t.subnets.find((s) => s.slice(0, 63) === current);
    if (same !== undefined) return [same];
    throw new IpamError(
      "POOL_NOT_ALLOWED",
      `${who(t.app)} already has pool ${own.metadata.name} in subnet ${current} (${own.spec.subnet}) for ${t.interface}, and now names ${t.subnets.join(", ")}; changing an application's subnet is refused: delete the application (or its pool) first`,
      { pool: own.metadata.name },
    );
  }

  /**
   * The application's own pool (by owner uid, under any name; a live read of the names it
   * may have, since another replica may have just created it), else a pool of an earlier
   * application of the same kind, namespace and name kept with ippool-reclaim "false", else
   * the first name no other application's pool holds.
   */
  private async find(t: AutoPoolTarget): Promise<Found> {
    const cached = this.cachedOwn(t);
    if (cached) {
      const live = await this.d.pools.get(cached.metadata.name ?? "");
      if (live && !deleting(live) && servesApplication(live, t.app, t.interface, t.family)) return { own: live };
    }
    let freeName: string | undefined;
    for (const name of autoPoolNames(t.family, t.app, t.interface)) {
      const p = await this.d.pools.get(name);
      if (!p) {
        freeName = name;
        break;
      }
      if (!deleting(p) && servesApplication(p, t.app, t.interface, t.family)) return { own: p };
    }
    const kept = await this.keptForNext(t);
    // Taken over a moment ago (by another replica) while the cache still shows the earlier owner.
    if (kept && servesApplication(kept, t.app, t.interface, t.family)) return { own: kept };
    return { ...(kept ? { takeover: kept } : {}), ...(freeName ? { freeName } : {}) };
  }

  /** A pool an earlier application of the same kind, namespace and name left with ippool-reclaim "false" (as stored now). */
  private async keptForNext(t: AutoPoolTarget): Promise<SpiderIPPool | undefined> {
    const keptFor = (p: SpiderIPPool | undefined): p is SpiderIPPool => {
      const o = p && !deleting(p) ? autoPoolOwner(p) : undefined;
      return o !== undefined && o.kind === t.app.kind && o.namespace === t.app.namespace && o.name === t.app.name && o.interface === t.interface && o.family === t.family;
    };
    const cached = this.d.poolCache.list().find((p) => keptFor(p) && autoPoolOwner(p)?.reclaim === false && autoPoolOwner(p)?.uid !== t.app.uid);
    if (!cached) return undefined;
    const live = await this.d.pools.get(cached.metadata.name ?? "");
    const o = live ? autoPoolOwner(live) : undefined;
    return keptFor(live) && (o?.uid === t.app.uid || o?.reclaim === false) ? live : undefined;
  }

  /** The pool to size this round in `source` (its own, or a kept one to take over), and the name it has or gets. */
  private choose(found: Found, source: CarveSource, t: AutoPoolTarget): { pool?: SpiderIPPool; adopting: boolean; name: string } {
    const inSource = (p: SpiderIPPool | undefined): p is SpiderIPPool => p !== undefined && tryParse(() => sameNetwork(parseCIDR(p.spec.subnet), source.cidr)) === true;
    // A pool kept in another subnet cannot be taken over by an application that names this one.
    const pool = found.own ?? (inSource(found.takeover) ? found.takeover : undefined);
    const name = pool?.metadata.name ?? found.freeName;
    if (name === undefined) throw new IpamError("POOL_NOT_ALLOWED", `every name ${who(t.app)}'s pool may take is held by another application's pool: ${autoPoolNames(t.family, t.app, t.interface).join(", ")}`, {});
    return { ...(pool ? { pool } : {}), adopting: pool !== undefined && pool === found.takeover, name };
  }

  private async ensureIn(subnetName: string, t: AutoPoolTarget): Promise<SpiderIPPool> {
    const source = await this.carveSource(subnetName);
    const { pool, adopting, name } = this.choose(await this.find(t), source, t);
    const current = heldNow(source, name, pool);
    const have = Number(current.size());
    if (pool && !adopting && have >= t.size) return autoPoolOwner(pool)?.reclaim === t.reclaim || t.dryRun ? pool : this.relabel(pool, t);
    const wanted = have < t.size ? current.union(this.carve(source, name, t, current)) : current;
    if (t.dryRun) return pool ? withIPs(pool, wanted) : this.poolObject(name, t, source, wanted);
    // Set the addresses aside in the subnet first: this write is the compare-and-swap.
    if (have < t.size) await this.setAside(source, name, t, wanted);
    if (pool && adopting) return this.adopt(pool, source, wanted, t);
    return pool ? this.grow(pool, wanted, t) : this.create(name, source, t, wanted);
  }

  private async carveSource(subnetName: string): Promise<CarveSource> {
    const subnet = await this.d.subnets.get(subnetName);
    // Named by the annotation: say which, so the refusal points at what to change (found by the admission fuzzing).
    if (!subnet) throw new IpamError("SUBNET_NOT_FOUND", `SpiderSubnet ${subnetName} (named in the ${ANNO_SUBNET}/${ANNO_SUBNETS} annotation) does not exist`, { subnet: subnetName });
    return { name: subnetName, subnet, cidr: parseCIDR(subnet.spec.subnet) };
  }

  /** The lowest addresses the pool still lacks, from those of the subnet nobody holds. */
  private carve(source: CarveSource, name: string, t: AutoPoolTarget, current: IPSet): IPSet {
    const missing = t.size - Number(current.size());
    const free = this.freeIn(source, name).difference(current);
    const more = lowest(free, missing);
    if (Number(more.size()) < missing) {
      throw new IpamError("POOL_EXHAUSTED", `SpiderSubnet ${source.name} has ${free.size()} free addresses, ${missing - Number(more.size())} short`, { subnet: source.name });
    }
    return more;
  }

  /** The subnet's usable addresses (not its gateway) that no other pool holds or has set aside, and no SpiderReservedIP reserves. */
  private freeIn(source: CarveSource, poolName: string): IPSet {
    const { subnet, cidr } = source;
    const family = cidr.family;
    let taken = IPSet.empty(family);
    for (const [pool, e] of Object.entries(subnet.status?.controlledIPPools ?? {})) if (pool !== poolName) taken = taken.union(listSet(e.ips, family));
    for (const p of this.d.poolCache.list()) {
      if (p.metadata.name === poolName) continue;
      const ips = tryParse(() => (sameNetwork(parseCIDR(p.spec.subnet), cidr) ? listSet(p.spec.ips, family) : undefined));
      if (ips) taken = taken.union(ips);
    }
    const gateway = subnet.spec.gateway ? listSet([subnet.spec.gateway], family) : IPSet.empty(family);
    const usable = listSet(subnet.spec.ips, family).difference(listSet(subnet.spec.excludeIPs, family)).difference(this.d.reserved(family)).difference(gateway);
    return usable.difference(taken);
  }

  private async setAside(source: CarveSource, name: string, t: AutoPoolTarget, wanted: IPSet): Promise<void> {
    const { subnet } = source;
    await this.d.subnets.replaceStatus({
      ...subnet,
      status: {
        ...subnet.status,
        controlledIPPools: {
          ...subnet.status?.controlledIPPools,
          [name]: { ips: wanted.toStrings(), application: `${t.app.kind}/${t.app.namespace}/${t.app.name}`, reservedAt: this.now() },
        },
      },
    });
  }

  private now(): string {
    return new Date(this.d.clock.now()).toISOString();
  }

  /** The application changed ippool-reclaim: its pool's label follows. */
  private relabel(pool: SpiderIPPool, t: AutoPoolTarget): Promise<SpiderIPPool> {
    return this.d.pools.replace({ ...pool, metadata: { ...pool.metadata, labels: { ...pool.metadata.labels, [AUTO_POOL_LABELS.reclaim]: String(t.reclaim) } } });
  }

  private async grow(existing: SpiderIPPool, wanted: IPSet, t: AutoPoolTarget): Promise<SpiderIPPool> {
    const annotations = { ...existing.metadata.annotations, [AUTO_POOL_SIZED_AT]: this.now() };
    const grown = await this.d.pools.replace(withIPs({ ...existing, metadata: { ...existing.metadata, annotations } }, wanted));
    this.d.log.info({ pool: existing.metadata.name, size: t.size }, "automatic pool grown");
    return grown;
  }

  /** The earlier application's kept pool becomes this one's: its owner labels, selector and namespace. */
  private async adopt(kept: SpiderIPPool, source: CarveSource, wanted: IPSet, t: AutoPoolTarget): Promise<SpiderIPPool> {
    const fresh = this.poolObject(kept.metadata.name ?? "", t, source, wanted);
    const adopted = await this.d.pools.replace({
      ...kept,
      metadata: { ...kept.metadata, labels: { ...kept.metadata.labels, ...fresh.metadata.labels }, annotations: { ...kept.metadata.annotations, ...fresh.metadata.annotations } },
      spec: { ...kept.spec, ips: wanted.toStrings(), namespaceName: [t.app.namespace], ...(t.selector ? { podAffinity: t.selector } : {}) },
    });
    this.d.log.info({ pool: kept.metadata.name, from: kept.metadata.labels?.[AUTO_POOL_LABELS.uid], app: who(t.app) }, "automatic pool taken over by the next application of its name");
    return adopted;
  }

  private async create(name: string, source: CarveSource, t: AutoPoolTarget, wanted: IPSet): Promise<SpiderIPPool> {
    // A ConflictError here means another admission of the same application created it
    // first: the caller's next round finds it and checks its size.
    const created = await this.d.pools.create(this.poolObject(name, t, source, wanted));
    this.d.log.info({ pool: name, size: t.size, subnet: source.name, app: who(t.app) }, "automatic pool created");
    return created;
  }

  /** The pool object of an application: bound to it by owner labels, its namespace and its Pod selector. */
  private poolObject(name: string, t: AutoPoolTarget, source: CarveSource, ips: IPSet): SpiderIPPool {
    const { subnet, cidr } = source;
    return {
      apiVersion: API_VERSION,
      kind: "SpiderIPPool",
      metadata: {
        name,
        labels: autoPoolLabels(t.app, { interface: t.interface, subnet: source.name, cidr, reclaim: t.reclaim }),
        annotations: { [AUTO_POOL_APPLICATION]: formatApplication(t.app), [AUTO_POOL_BOUND_AT]: this.now(), [AUTO_POOL_SIZED_AT]: this.now() },
        finalizers: [POOL_FINALIZER],
        ...(subnet.metadata.uid ? { ownerReferences: [{ apiVersion: API_VERSION, kind: "SpiderSubnet", name: source.name, uid: subnet.metadata.uid, controller: true, blockOwnerDeletion: true }] } : {}),
      },
      spec: {
        ipVersion: t.family,
        subnet: subnet.spec.subnet,
        ips: ips.toStrings(),
        namespaceName: [t.app.namespace],
        ...(t.selector ? { podAffinity: t.selector } : {}),
        ...(subnet.spec.gateway ? { gateway: subnet.spec.gateway } : {}),
        ...(subnet.spec.routes ? { routes: subnet.spec.routes } : {}),
        ...(subnet.spec.vlan !== undefined ? { vlan: subnet.spec.vlan } : {}),
      },
    };
  }

  /**
   * Gives back what the pool holds beyond `target` addresses, never an address held or
   * pending: free ones first (highest first), then cooling-down ones. Returns how many went.
   */
  async shrink(name: string, target: number): Promise<number> {
    return retry(
      async () => {
        const pool = await this.d.pools.get(name);
        if (!pool || deleting(pool)) return 0;
        const subnet = parseCIDR(pool.spec.subnet);
        const ips = listSet(pool.spec.ips, subnet.family);
        const excess = Number(ips.size()) - target;
        if (excess <= 0) return 0;
        const state = decodeAllocations(pool.status?.allocations, subnet);
        const held = IPSet.of(subnet.family, state.runs.map((r) => ({ start: r.start, end: r.start + BigInt(r.count) - 1n })));
        const cooling = IPSet.of(subnet.family, state.cooling.map((c) => ({ start: c.address, end: c.address })));
        const free = ips.difference(held);
        const first = highest(free.difference(cooling), excess);
        const drop = first.union(highest(free.intersection(cooling), excess - Number(first.size())));
        if (drop.isEmpty) return 0;
        await this.d.pools.replace(withIPs(pool, ips.difference(drop)));
        this.d.log.info({ pool: name, from: ips.size().toString(), to: Number(ips.size() - drop.size()) }, "automatic pool shrunk");
        return Number(drop.size());
      },
      { policy: CARVE_RETRY, clock: this.d.clock, retryable: (err) => err instanceof ConflictError },
    );
  }
}

/** The addresses the pool holds now: its spec's, else those its subnet set aside for it. */
function heldNow(source: CarveSource, name: string, existing: SpiderIPPool | undefined): IPSet {
  const family = source.cidr.family;
  if (existing) return listSet(existing.spec.ips, family);
  const entry = source.subnet.status?.controlledIPPools?.[name];
  return entry ? listSet(entry.ips, family) : IPSet.empty(family);
}
