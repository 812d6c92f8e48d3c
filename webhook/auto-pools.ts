import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { parseCIDR } from "../ipam/address/cidr.js";
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
import { sameNetwork } from "../ipam/kinds/spec-rules.js";
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

  /** The Pod's top controller, following controller owner references up (ReplicaSet -> Deployment, Job -> CronJob). */
  private async application(namespace: string, refs: readonly OwnerReference[]): Promise<App | undefined> {
    let ref = refs.find((r) => r.controller);
    if (!ref) return undefined;
    let obj: KubernetesObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> } = await this.objects.read({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace } });
    for (let depth = 0; depth < 3; depth++) {
      const up = obj.metadata?.ownerReferences?.find((r) => r.controller);
      if (!up) break;
      ref = { apiVersion: up.apiVersion, kind: up.kind, name: up.name, uid: up.uid };
      obj = await this.objects.read({ apiVersion: up.apiVersion, kind: up.kind, metadata: { name: up.name, namespace } });
    }
    const spec = obj.spec ?? {};
    let replicas = 1;
    if (typeof spec.replicas === "number") replicas = spec.replicas;
    else if (ref.kind === "Job") replicas = Number(spec.completions ?? spec.parallelism ?? 1);
    else if (ref.kind === "CronJob") {
      const job = (spec.jobTemplate as { spec?: { completions?: number; parallelism?: number } } | undefined)?.spec;
      replicas = Number(job?.completions ?? job?.parallelism ?? 1);
    } else if (ref.kind === "DaemonSet") replicas = Number((obj.status?.desiredNumberScheduled as number | undefined) ?? 1);
    const selector = (spec.selector as LabelSelector | undefined) ?? { matchLabels: { [`ipam.spidernet.io/owner-application-uid`]: obj.metadata?.uid ?? "" } };
    return {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      namespace,
      name: ref.name,
      uid: obj.metadata?.uid ?? ref.uid,
      replicas: Math.max(1, replicas),
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
    const name = autoPoolName(req.family, app, req.interface);
    const failures: string[] = [];
    for (const subnetName of req.subnets) {
      try {
        return await this.ensureIn(subnetName, name, app, req, size, reclaim);
      } catch (err) {
        if (!(err instanceof IpamError) || err.code !== "POOL_EXHAUSTED") throw err;
        failures.push(err.message);
      }
    }
    throw new IpamError("POOL_EXHAUSTED", `${app.kind} ${app.namespace}/${app.name} needs ${size} addresses for ${req.interface}: ${failures.join("; ")}; add addresses to the subnet or lower ${ANNO_IPPOOL_IP_NUMBER}`, { pool: name });
  }

  /** Another admission of the same subnet or application wrote first: read again and redo. */
  private ensureIn(subnetName: string, name: string, app: App, req: AutoPoolRequest, size: number, reclaim: boolean): Promise<SpiderIPPool> {
    return retry(() => this.ensureOnce(subnetName, name, app, req, size, reclaim), { policy: CARVE_RETRY, clock: this.d.clock, retryable: (err) => err instanceof ConflictError });
  }

  private async ensureOnce(subnetName: string, name: string, app: App, req: AutoPoolRequest, size: number, reclaim: boolean): Promise<SpiderIPPool> {
    const subnet = await this.d.subnets.get(subnetName);
    if (!subnet) throw new IpamError("SUBNET_NOT_FOUND", `SpiderSubnet ${subnetName} does not exist`, { subnet: subnetName });
    const cidr = parseCIDR(subnet.spec.subnet);
    const family = cidr.family;
    const existing = await this.d.pools.get(name);
    if (existing && !sameNetwork(parseCIDR(existing.spec.subnet), cidr)) {
      throw new IpamError("POOL_NOT_ALLOWED", `${app.kind} ${app.namespace}/${app.name} already has pool ${name} in subnet ${existing.spec.subnet}; changing an application's subnet is refused: delete the application (or its pool) first`, { pool: name });
    }
    const entries = subnet.status?.controlledIPPools ?? {};
    const current = existing ? listSet(existing.spec.ips, family) : entries[name] ? listSet(entries[name].ips, family) : IPSet.empty(family);
    const have = Number(current.size());
    if (existing && have >= size) return existing;
    let wanted = current;
    if (have < size) {
      let taken = IPSet.empty(family);
      for (const [pool, e] of Object.entries(entries)) if (pool !== name) taken = taken.union(listSet(e.ips, family));
      for (const p of this.d.poolCache()) {
        if (p.metadata.name === name) continue;
        try {
          if (sameNetwork(parseCIDR(p.spec.subnet), cidr)) taken = taken.union(listSet(p.spec.ips, family));
        } catch {
          continue;
        }
      }
      const usable = listSet(subnet.spec.ips, family).difference(listSet(subnet.spec.excludeIPs, family)).difference(this.d.reserved(family));
      const free = usable.difference(taken).difference(current);
      const more = lowest(free, size - have);
      if (Number(more.size()) < size - have) {
        throw new IpamError("POOL_EXHAUSTED", `SpiderSubnet ${subnetName} has ${free.size()} free addresses, ${size - have} short`, { subnet: subnetName });
      }
      wanted = current.union(more);
    }
    if (req.dryRun) return existing ? { ...existing, spec: { ...existing.spec, ips: wanted.toStrings() } } : this.poolObject(name, app, req, subnet, subnetName, wanted, reclaim);
    if (have < size) {
      // Set the addresses aside in the subnet first: this write is the compare-and-swap.
      await this.d.subnets.replaceStatus({
        ...subnet,
        status: {
          ...subnet.status,
          controlledIPPools: { ...entries, [name]: { ips: wanted.toStrings(), application: `${app.kind}/${app.namespace}/${app.name}`, reservedAt: new Date().toISOString() } },
        },
      });
    }
    if (existing) {
      const grown = await this.d.pools.replace({ ...existing, spec: { ...existing.spec, ips: wanted.toStrings() } });
      this.d.log.info({ pool: name, size }, "automatic pool grown");
      return grown;
    }
    // A ConflictError here means another admission of the same application created it
    // first: the caller's next round finds it and checks its size.
    const created = await this.d.pools.create(this.poolObject(name, app, req, subnet, subnetName, wanted, reclaim));
    this.d.log.info({ pool: name, size, subnet: subnetName, app: `${app.kind}/${app.namespace}/${app.name}` }, "automatic pool created");
    return created;
  }

  private poolObject(name: string, app: App, req: AutoPoolRequest, subnet: SpiderSubnet, subnetName: string, ips: IPSet, reclaim: boolean): SpiderIPPool {
    const cidr = parseCIDR(subnet.spec.subnet);
    const family = cidr.family;
    return {
      apiVersion: API_VERSION,
      kind: "SpiderIPPool",
      metadata: {
        name,
        labels: autoPoolLabels(app, family, req.interface, subnetName, cidr, reclaim),
        finalizers: [POOL_FINALIZER],
        ...(subnet.metadata.uid ? { ownerReferences: [{ apiVersion: API_VERSION, kind: "SpiderSubnet", name: subnetName, uid: subnet.metadata.uid, controller: true, blockOwnerDeletion: true }] } : {}),
      },
      spec: {
        ipVersion: family,
        subnet: subnet.spec.subnet,
        ips: ips.toStrings(),
        podAffinity: app.selector,
        ...(subnet.spec.gateway ? { gateway: subnet.spec.gateway } : {}),
        ...(subnet.spec.routes ? { routes: subnet.spec.routes } : {}),
        ...(subnet.spec.vlan !== undefined ? { vlan: subnet.spec.vlan } : {}),
      },
    };
  }
}
