import type { Family } from "../address/ip.js";
import { ANNO_SUBNET, ANNO_SUBNETS } from "../annotations/keys.js";
import { parseSubnetAnnotation, parseSubnetsAnnotation, type NicSubnets } from "../annotations/pools.js";
import { IpamError } from "../errors.js";
import { APPLICATION_KINDS, controllerOf, isApplicationKind, podSelectorOf, podTemplateOf, wantedPods, type ApplicationKind, type Workload } from "../kinds/application.js";
import { autoPoolRequest, autoPoolSizeWithin, type Application, type PoolSizeLimit } from "../kinds/auto-pool.js";
import type { ClusterConfig } from "../kinds/cluster-config.js";
import type { SpiderIPPool } from "../kinds/ippool.js";
import type { OwnerReference } from "../kinds/meta.js";
import { templateFitsNode, type NodeLike } from "../placement/node-fit.js";
import type { ApplicationDirectory, Cache } from "../ports.js";
import type { AutoPoolCarver, AutoPoolTarget } from "./auto-pool-carver.js";
import type { PodFacts } from "./reserve.js";

export interface ApplicationPoolsDeps {
  carver: AutoPoolCarver;
  apps: ApplicationDirectory;
  /** For a DaemonSet: the nodes it runs on. */
  nodes: Cache<NodeLike>;
  cluster: () => ClusterConfig;
  limit: PoolSizeLimit;
}

/** A Pod's application: its top controller, and that object when it could be read. */
export interface TopOwner {
  app: Application;
  workload?: Workload;
}

/** Owners above a Pod worth following: ReplicaSet -> Deployment, Job -> CronJob, and a third party's own chain. */
const MAX_OWNER_DEPTH = 3;

/** The subnet annotations of a Pod or Pod template: the NICs that want an automatic pool. */
export function subnetNics(annotations: Readonly<Record<string, string>>): NicSubnets[] {
  const list = annotations[ANNO_SUBNETS];
  if (list !== undefined) return parseSubnetsAnnotation(list);
  const one = annotations[ANNO_SUBNET];
  return one !== undefined ? [parseSubnetAnnotation(one)] : [];
}

/**
 * Automatic pools sized to their applications (api.md "Auto pools"). The admission of an
 * application (and of its scale) sizes its pools before its Pods arrive, so a scale-up's
 * Pods find their addresses waiting; a Pod's admission draws from its application's pool
 * and only grows it when the application's admission did not (a third-party owner, an
 * application created before Spiderpool, a pool that gave its addresses back while idle).
 */
export class ApplicationPools {
  constructor(private readonly d: ApplicationPoolsDeps) {}

  /**
   * At the admission of an application (CREATE, UPDATE, or its scale subresource with
   * `replicas`): grows each of its NICs' pools to the size it wants. An application owned by
   * another (a Deployment's ReplicaSet, a CronJob's Job) is its owner's business. Throws
   * AnnotationError for a malformed annotation and POOL_TOO_LARGE beyond the limit.
   */
  async forApplication(kind: ApplicationKind, w: Workload, o: { replicas?: number; dryRun: boolean }): Promise<SpiderIPPool[]> {
    const cluster = this.d.cluster();
    if (!cluster.enableSpiderSubnet || controllerOf(w.metadata)) return [];
    const annotations = podTemplateOf(w)?.metadata?.annotations ?? {};
    const nics = subnetNics(annotations);
    if (nics.length === 0) return [];
    const app: Application = { apiVersion: APPLICATION_KINDS[kind].apiVersion, kind, namespace: w.metadata.namespace ?? "", name: w.metadata.name ?? "", uid: w.metadata.uid ?? "" };
    const req = autoPoolRequest(annotations, cluster.clusterSubnetDefaultFlexibleIPNumber);
    const wanted = o.replicas ?? this.wanted(kind, w);
    const size = autoPoolSizeWithin(req, wanted, this.d.limit, app);
    const selector = podSelectorOf(kind, w);
    const base = { app, ...(selector ? { selector } : {}), size, reclaim: req.reclaim, dryRun: o.dryRun };
    const out: SpiderIPPool[] = [];
    for (const t of this.targets(nics, base)) out.push(await this.d.carver.ensure(t));
    return out;
  }

  /** One target per NIC and enabled family the annotation names subnets for. */
  private targets(nics: readonly NicSubnets[], base: Omit<AutoPoolTarget, "interface" | "family" | "subnets">): AutoPoolTarget[] {
    return nics.flatMap((nic) => this.families(nic).map((family) => ({ ...base, interface: nic.interface, family, subnets: family === 4 ? nic.ipv4 : nic.ipv6 })));
  }

  /** The pool of the Pod's application for one NIC and family, grown to the application's size when it falls short. */
  async forPod(pod: PodFacts, iface: string, family: Family, subnets: readonly string[], dryRun: boolean): Promise<SpiderIPPool> {
    const top = await this.topOwner(pod.namespace, pod.ownerReferences ?? []);
    if (!top) {
      throw new IpamError("POOL_NOT_ALLOWED", `a bare pod cannot use ${ANNO_SUBNET}: automatic pools belong to an application (Deployment, StatefulSet, Job, …); name a pool with ipam.spidernet.io/ippool instead`, {});
    }
    const { app, workload } = top;
    const req = autoPoolRequest(pod.annotations, this.d.cluster().clusterSubnetDefaultFlexibleIPNumber);
    // Only the kinds we know are read for a selector; a third party's spec.selector may mean anything.
    const known = isApplicationKind(app.kind) && workload !== undefined;
    const selector = known ? podSelectorOf(app.kind, workload) : undefined;
    const size = autoPoolSizeWithin(req, workload ? this.wanted(app.kind, workload) : 1, this.d.limit, app);
    return this.d.carver.ensure({ app, ...(selector ? { selector } : {}), interface: iface, family, subnets, size, reclaim: req.reclaim, dryRun });
  }

  /** How many Pods an application wants now (a DaemonSet: the nodes it fits). */
  wanted(kind: string, w: Workload): number {
    if (kind !== "DaemonSet") return wantedPods(kind, w);
    const template = podTemplateOf(w);
    return wantedPods(kind, w, this.d.nodes.list().filter((n) => templateFitsNode(template, n)).length);
  }

  /** The size an application's pool should have now, from its Pod template's annotations (undefined: the template asks for none, or cannot be read). */
  wantedSize(kind: ApplicationKind, w: Workload): number | undefined {
    const annotations = podTemplateOf(w)?.metadata?.annotations ?? {};
    try {
      if (subnetNics(annotations).length === 0) return undefined;
      const req = autoPoolRequest(annotations, this.d.cluster().clusterSubnetDefaultFlexibleIPNumber);
      const app = { kind, namespace: w.metadata.namespace ?? "", name: w.metadata.name ?? "" };
      return autoPoolSizeWithin(req, this.wanted(kind, w), this.d.limit, app);
    } catch {
      // Admission refuses such templates; one written before the webhook is left alone.
      return undefined;
    }
  }

  /** The families a NIC's annotation names that the cluster has enabled. */
  private families(nic: NicSubnets): Family[] {
    const cluster = this.d.cluster();
    const out: Family[] = [];
    if (cluster.enableIPv4 && nic.ipv4.length > 0) out.push(4);
    if (cluster.enableIPv6 && nic.ipv6.length > 0) out.push(6);
    return out;
  }

  /** A Pod's top controller, following controller references up (ReplicaSet -> Deployment, Job -> CronJob). */
  async topOwner(namespace: string, refs: readonly OwnerReference[]): Promise<TopOwner | undefined> {
    let ref = controllerOf({ ownerReferences: [...refs] });
    if (!ref) return undefined;
    let obj = await this.read(ref, namespace);
    for (let depth = 1; depth < MAX_OWNER_DEPTH && obj; depth++) {
      const up = controllerOf(obj.metadata);
      if (!up) break;
      ref = up;
      obj = await this.read(ref, namespace);
    }
    const app: Application = { apiVersion: ref.apiVersion, kind: ref.kind, namespace, name: ref.name, uid: ref.uid };
    return { app, ...(obj ? { workload: obj } : {}) };
  }

  /** The owner an owner reference names, only if it is that very object (same uid). */
  private async read(ref: OwnerReference, namespace: string): Promise<Workload | undefined> {
    const obj = await this.d.apps.get({ apiVersion: ref.apiVersion, kind: ref.kind, namespace, name: ref.name });
    return obj?.metadata.uid === ref.uid ? obj : undefined;
  }
}
