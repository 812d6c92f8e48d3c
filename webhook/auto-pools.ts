import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { parseCIDR, type CIDR } from "../ipam/address/cidr.js";
import type { Family } from "../ipam/address/ip.js";
import { IPSet } from "../ipam/address/ipset.js";
import { ANNO_IPPOOL_IP_NUMBER, ANNO_IPPOOL_RECLAIM } from "../ipam/annotations/keys.js";
import { autoPoolSize, parsePoolIPNumber, parseReclaim } from "../ipam/annotations/scalars.js";
import { IpamError } from "../ipam/errors.js";
import { autoPoolLabels, autoPoolName, lowest, type Application } from "../ipam/kinds/auto-pool.js";
import type { ClusterConfig } from "../ipam/kinds/cluster-config.js";
import { listSet, POOL_FINALIZER } from "../ipam/kinds/ippool-admission.js";
import type { SpiderIPPool } from "../ipam/kinds/ippool.js";
import { API_VERSION, type LabelSelector, type OwnerReference } from "../ipam/kinds/meta.js";
import { sameNetwork, tryParse } from "../ipam/kinds/spec-rules.js";
import type { SpiderSubnet } from "../ipam/kinds/subnet.js";
import { ConflictError, type Clock, type Log, type ObjectStore } from "../ipam/ports.js";
import { retry, type RetryPolicy } from "../ipam/retry.js";

export interface AutoPoolRequest {
  namespace: string;
  annotations: Record<string, string>;
  ownerReferences: readonly OwnerReference[];
  interface: string;
  family: Family;
  /** Candidate subnets, in the order the Pod wrote them. */
  subnets: readonly string[];
  /** Work out the pool a dry run would use, writing nothing. */
  dryRun: boolean;
}

const CARVE_RETRY: RetryPolicy = { attempts: 11, baseMs: 20, maxMs: 200, jitter: true };

interface App extends Application {
  replicas: number;
  selector: LabelSelector;
}

/** What one NIC and family of a Pod needs from its application's automatic pool. */
interface AutoPoolPlan {
  /** The pool's name. */
  name: string;
  app: App;
  req: AutoPoolRequest;
  /** How many addresses the pool must hold. */
  size: number;
  reclaim: boolean;
}

/** The SpiderSubnet a pool is carved from, as read for this round. */
interface CarveSource {
  name: string;
  subnet: SpiderSubnet;
  cidr: CIDR;
}

type Controller = KubernetesObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

/** How many Pods a controller without spec.replicas wants, by kind. */
const REPLICAS_BY_KIND = new Map<string, (obj: Controller) => number>([
  ["Job", (obj) => Number(obj.spec?.completions ?? obj.spec?.parallelism ?? 1)],
  [
    "CronJob",
    (obj) => {
      const job = (obj.spec?.jobTemplate as { spec?: { completions?: number; parallelism?: number } } | undefined)?.spec;
      return Number(job?.completions ?? job?.parallelism ?? 1);
    },
  ],
  ["DaemonSet", (obj) => Number((obj.status?.desiredNumberScheduled as number | undefined) ?? 1)],
]);

function desiredReplicas(kind: string, obj: Controller): number {
  const replicas = obj.spec?.replicas;
  if (typeof replicas === "number") return replicas;
  return REPLICAS_BY_KIND.get(kind)?.(obj) ?? 1;
}

const withIPs = (pool: SpiderIPPool, ips: IPSet): SpiderIPPool => ({ ...pool, spec: { ...pool.spec, ips: ips.toStrings() } });

/**
 * Automatic per-application pools (`ipam.spidernet.io/subnet(s)`): the first Pod of an
 * application creates its pool, carved from the subnet; later Pods grow it when the
 * application wants more than it holds. The subnet's status is the compare-and-swap point:
 * addresses are set aside there (controlledIPPools) before the pool is written, so two
 * applications never carve the same addresses, whichever replica serves them.
 */
export class AutoPools {
  private readonly objects: KubernetesObjectApi;

  constructor(
    kc: KubeConfig,
    private readonly d: {
      pools: ObjectStore<SpiderIPPool>;
      subnets: ObjectStore<SpiderSubnet>;
      poolCache: () => readonly SpiderIPPool[];
      reserved: (family: Family) => IPSet;
      cluster: () => ClusterConfig;
      clock: Clock;
      log: Log;
    },
  ) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
  }

  private read(ref: Pick<OwnerReference, "apiVersion" | "kind" | "name">, namespace: string): Promise<Controller> {
    return this.objects.read({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace } });
  }

  /** The top controller of a Pod, following controller owner references up (ReplicaSet -> Deployment, Job -> CronJob). */
  private async topController(namespace: string, refs: readonly OwnerReference[]): Promise<{ ref: OwnerReference; obj: Controller } | undefined> {
    let ref = refs.find((r) => r.controller);
    if (!ref) return undefined;
    let obj = await this.read(ref, namespace);
    for (let depth = 0; depth < 3; depth++) {
      const up = obj.metadata?.ownerReferences?.find((r) => r.controller);
      if (!up) break;
      ref = { apiVersion: up.apiVersion, kind: up.kind, name: up.name, uid: up.uid };
      obj = await this.read(ref, namespace);
    }
    return { ref, obj };
  }

  /** The Pod's application: its top controller, with how many Pods it wants and how to select them. */
  private async application(namespace: string, refs: readonly OwnerReference[]): Promise<App | undefined> {
    const top = await this.topController(namespace, refs);
    if (!top) return undefined;
    const { ref, obj } = top;
    const selector = (obj.spec?.selector as LabelSelector | undefined) ?? { matchLabels: { [`ipam.spidernet.io/owner-application-uid`]: obj.metadata?.uid ?? "" } };
    return {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      namespace,
      name: ref.name,
      uid: obj.metadata?.uid ?? ref.uid,
      replicas: Math.max(1, desiredReplicas(ref.kind, obj)),
      selector,
    };
  }

  /** The auto pool this NIC/family of the Pod allocates from, created or grown as needed (as stored now). */
  async ensure(req: AutoPoolRequest): Promise<SpiderIPPool> {
    const app = await this.application(req.namespace, req.ownerReferences);
    if (!app) {
      throw new IpamError("POOL_NOT_ALLOWED", `a bare pod cannot use ipam.spidernet.io/subnet: automatic pools belong to an application (Deployment, StatefulSet, Job, …); name a pool with ipam.spidernet.io/ippool instead`, {});
    }
    const number = req.annotations[ANNO_IPPOOL_IP_NUMBER];
    const size = autoPoolSize(number !== undefined ? parsePoolIPNumber(number) : { flexible: true, count: this.d.cluster().clusterSubnetDefaultFlexibleIPNumber }, app.replicas);
    const reclaim = req.annotations[ANNO_IPPOOL_RECLAIM] !== undefined ? parseReclaim(req.annotations[ANNO_IPPOOL_RECLAIM]) : true;
    const plan: AutoPoolPlan = { name: autoPoolName(req.family, app, req.interface), app, req, size, reclaim };
    const failures: string[] = [];
    for (const subnetName of req.subnets) {
      try {
        return await this.ensureIn(subnetName, plan);
      } catch (err) {
        if (!(err instanceof IpamError) || err.code !== "POOL_EXHAUSTED") throw err;
        failures.push(err.message);
      }
    }
    throw new IpamError("POOL_EXHAUSTED", `${app.kind} ${app.namespace}/${app.name} needs ${size} addresses for ${req.interface}: ${failures.join("; ")}; add addresses to the subnet or lower ${ANNO_IPPOOL_IP_NUMBER}`, { pool: plan.name });
  }

  /** Another admission of the same subnet or application wrote first: read again and redo. */
  private ensureIn(subnetName: string, plan: AutoPoolPlan): Promise<SpiderIPPool> {
    return retry(() => this.ensureOnce(subnetName, plan), { policy: CARVE_RETRY, clock: this.d.clock, retryable: (err) => err instanceof ConflictError });
  }

  private async ensureOnce(subnetName: string, plan: AutoPoolPlan): Promise<SpiderIPPool> {
    const { name, size } = plan;
    const source = await this.carveSource(subnetName);
    const existing = await this.d.pools.get(name);
    if (existing && !sameNetwork(parseCIDR(existing.spec.subnet), source.cidr)) {
      const { app } = plan;
      throw new IpamError("POOL_NOT_ALLOWED", `${app.kind} ${app.namespace}/${app.name} already has pool ${name} in subnet ${existing.spec.subnet}; changing an application's subnet is refused: delete the application (or its pool) first`, { pool: name });
    }
    const current = heldNow(source, name, existing);
    const have = Number(current.size());
    if (existing && have >= size) return existing;
    const wanted = have < size ? current.union(this.carve(source, plan, current)) : current;
    if (plan.req.dryRun) return existing ? withIPs(existing, wanted) : poolObject(plan, source, wanted);
    // Set the addresses aside in the subnet first: this write is the compare-and-swap.
    if (have < size) await this.setAside(source, plan, wanted);
    return existing ? this.grow(existing, wanted, plan) : this.create(source, plan, wanted);
  }

  private async carveSource(subnetName: string): Promise<CarveSource> {
    const subnet = await this.d.subnets.get(subnetName);
    if (!subnet) throw new IpamError("SUBNET_NOT_FOUND", `SpiderSubnet ${subnetName} does not exist`, { subnet: subnetName });
    return { name: subnetName, subnet, cidr: parseCIDR(subnet.spec.subnet) };
  }

  /** The lowest addresses the pool still lacks, from those of the subnet nobody holds. */
  private carve(source: CarveSource, plan: AutoPoolPlan, current: IPSet): IPSet {
    const missing = plan.size - Number(current.size());
    const free = this.freeIn(source, plan.name).difference(current);
    const more = lowest(free, missing);
    if (Number(more.size()) < missing) {
      throw new IpamError("POOL_EXHAUSTED", `SpiderSubnet ${source.name} has ${free.size()} free addresses, ${missing} short`, { subnet: source.name });
    }
    return more;
  }

  /** The subnet's usable addresses that no other pool holds or has set aside, and no SpiderReservedIP reserves. */
  private freeIn(source: CarveSource, poolName: string): IPSet {
    const { subnet, cidr } = source;
    const family = cidr.family;
    let taken = IPSet.empty(family);
    for (const [pool, e] of Object.entries(subnet.status?.controlledIPPools ?? {})) if (pool !== poolName) taken = taken.union(listSet(e.ips, family));
    for (const p of this.d.poolCache()) {
      if (p.metadata.name === poolName) continue;
      const ips = tryParse(() => (sameNetwork(parseCIDR(p.spec.subnet), cidr) ? listSet(p.spec.ips, family) : undefined));
      if (ips) taken = taken.union(ips);
    }
    const usable = listSet(subnet.spec.ips, family).difference(listSet(subnet.spec.excludeIPs, family)).difference(this.d.reserved(family));
    return usable.difference(taken);
  }

  private async setAside(source: CarveSource, plan: AutoPoolPlan, wanted: IPSet): Promise<void> {
    const { subnet } = source;
    const { app } = plan;
    await this.d.subnets.replaceStatus({
      ...subnet,
      status: {
        ...subnet.status,
        controlledIPPools: {
          ...subnet.status?.controlledIPPools,
          [plan.name]: { ips: wanted.toStrings(), application: `${app.kind}/${app.namespace}/${app.name}`, reservedAt: new Date().toISOString() },
        },
      },
    });
  }

  private async grow(existing: SpiderIPPool, wanted: IPSet, plan: AutoPoolPlan): Promise<SpiderIPPool> {
    const grown = await this.d.pools.replace(withIPs(existing, wanted));
    this.d.log.info({ pool: plan.name, size: plan.size }, "automatic pool grown");
    return grown;
  }

  private async create(source: CarveSource, plan: AutoPoolPlan, wanted: IPSet): Promise<SpiderIPPool> {
    // A ConflictError here means another admission of the same application created it
    // first: the caller's next round finds it and checks its size.
    const created = await this.d.pools.create(poolObject(plan, source, wanted));
    const { app } = plan;
    this.d.log.info({ pool: plan.name, size: plan.size, subnet: source.name, app: `${app.kind}/${app.namespace}/${app.name}` }, "automatic pool created");
    return created;
  }
}

/** The addresses the pool holds now: its spec's, else those its subnet set aside for it. */
function heldNow(source: CarveSource, name: string, existing: SpiderIPPool | undefined): IPSet {
  const family = source.cidr.family;
  if (existing) return listSet(existing.spec.ips, family);
  const entry = source.subnet.status?.controlledIPPools?.[name];
  return entry ? listSet(entry.ips, family) : IPSet.empty(family);
}

function poolObject(plan: AutoPoolPlan, source: CarveSource, ips: IPSet): SpiderIPPool {
  const { subnet, cidr } = source;
  const { name, app } = plan;
  return {
    apiVersion: API_VERSION,
    kind: "SpiderIPPool",
    metadata: {
      name,
      labels: autoPoolLabels(app, { interface: plan.req.interface, subnet: source.name, cidr, reclaim: plan.reclaim }),
      finalizers: [POOL_FINALIZER],
      ...(subnet.metadata.uid ? { ownerReferences: [{ apiVersion: API_VERSION, kind: "SpiderSubnet", name: source.name, uid: subnet.metadata.uid, controller: true, blockOwnerDeletion: true }] } : {}),
    },
    spec: {
      ipVersion: cidr.family,
      subnet: subnet.spec.subnet,
      ips: ips.toStrings(),
      podAffinity: app.selector,
      ...(subnet.spec.gateway ? { gateway: subnet.spec.gateway } : {}),
      ...(subnet.spec.routes ? { routes: subnet.spec.routes } : {}),
      ...(subnet.spec.vlan !== undefined ? { vlan: subnet.spec.vlan } : {}),
    },
  };
}
