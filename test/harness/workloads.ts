import { AppsV1Api, BatchV1Api, CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { SUBNET_PLURAL, type SpiderSubnet } from "../../ipam/kinds/subnet.js";
import { CustomResources } from "../../k8s/resources.js";
import { parseIPList } from "../../ipam/address/iplist.js";
import { waitFor } from "../../local-cluster/kube.js";

/**
 * Workloads as tests write them, and the Pods their controllers would make: the integration
 * tier has no kube-controller-manager, so its tests create a workload's Pods themselves, with
 * the owner references, labels and (for DaemonSets) node affinity the real controllers set.
 */

type Annotations = Record<string, string>;

const container = { name: "c", image: "example.invalid/app:1" };

export function deploymentBody(name: string, replicas: number, annotations: Annotations, extra: { maxSurge?: number; nodeSelector?: Record<string, string> } = {}) {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      ...(extra.maxSurge !== undefined ? { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: extra.maxSurge, maxUnavailable: 0 } } } : {}),
      template: { metadata: { labels: { app: name }, annotations }, spec: { containers: [container], ...(extra.nodeSelector ? { nodeSelector: extra.nodeSelector } : {}) } },
    },
  };
}

export function statefulSetBody(name: string, replicas: number, annotations: Annotations, ordinalsStart?: number) {
  return {
    metadata: { name },
    spec: {
      replicas,
      serviceName: name,
      podManagementPolicy: "Parallel",
      ...(ordinalsStart !== undefined ? { ordinals: { start: ordinalsStart } } : {}),
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name }, annotations }, spec: { containers: [container] } },
    },
  };
}

export function daemonSetBody(name: string, annotations: Annotations, nodeSelector?: Record<string, string>) {
  return {
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name }, annotations }, spec: { containers: [container], ...(nodeSelector ? { nodeSelector } : {}) } },
    },
  };
}

export function jobBody(name: string, completions: number, annotations: Annotations) {
  return {
    metadata: { name },
    spec: { completions, parallelism: completions, template: { metadata: { annotations }, spec: { containers: [container], restartPolicy: "Never" } } },
  };
}

export function cronJobBody(name: string, completions: number, annotations: Annotations) {
  return {
    metadata: { name },
    spec: {
      schedule: "0 0 1 1 *",
      jobTemplate: { spec: { completions, parallelism: completions, template: { metadata: { labels: { app: name }, annotations }, spec: { containers: [container], restartPolicy: "Never" } } } },
    },
  };
}

export interface Owner {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

export const ownerOf = (apiVersion: string, kind: string, o: { metadata?: { name?: string; uid?: string } }): Owner => ({
  apiVersion,
  kind,
  name: o.metadata?.name ?? "",
  uid: o.metadata?.uid ?? "",
});

/** A Pod as `owner`'s controller would create it. */
export function ownedPod(name: string, owner: Owner, labels: Record<string, string>, annotations: Annotations, extra: Partial<NonNullable<V1Pod["spec"]>> = {}): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels, annotations, ownerReferences: [{ ...owner, controller: true, blockOwnerDeletion: true }] },
    spec: { containers: [container], ...extra },
  };
}

/** The affinity the DaemonSet controller gives the Pod it makes for `node`. */
export const daemonSetAffinity = (node: string) => ({
  nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [node] }] }] } },
});

/** The ReplicaSet a Deployment controller would make (with its pod-template-hash). */
export async function replicaSetFor(kc: KubeConfig, ns: string, deployment: { metadata?: { name?: string; uid?: string }; spec?: { replicas?: number; template?: unknown } }, hash = "5d9f7c6b8") {
  const name = deployment.metadata?.name ?? "";
  return kc.makeApiClient(AppsV1Api).createNamespacedReplicaSet({
    namespace: ns,
    body: {
      metadata: { name: `${name}-${hash}`, labels: { app: name, "pod-template-hash": hash }, ownerReferences: [{ ...ownerOf("apps/v1", "Deployment", deployment), controller: true, blockOwnerDeletion: true }] },
      spec: {
        replicas: deployment.spec?.replicas ?? 1,
        selector: { matchLabels: { app: name, "pod-template-hash": hash } },
        template: { metadata: { labels: { app: name, "pod-template-hash": hash } }, spec: { containers: [container] } },
      },
    },
  });
}

export const apis = (kc: KubeConfig) => ({
  core: kc.makeApiClient(CoreV1Api),
  apps: kc.makeApiClient(AppsV1Api),
  batch: kc.makeApiClient(BatchV1Api),
  pools: new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL),
  subnets: new CustomResources<SpiderSubnet>(kc, SUBNET_PLURAL),
});

/** The automatic pools of an application (by its owner labels), whatever their names. */
export async function poolsOfApp(kc: KubeConfig, uid: string): Promise<SpiderIPPool[]> {
  const list = await new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL).list();
  return list.items.filter((p) => p.metadata.labels?.["ipam.spidernet.io/owner-application-uid"] === uid);
}

/** How many addresses a pool's spec holds. */
export const poolSize = (p: SpiderIPPool | undefined): number => (p ? Number(parseIPList(p.spec.ips ?? [], p.spec.ipVersion ?? 4).size()) : 0);

/** The subnet's addresses handed to pools, from its status. */
export async function subnetHanded(kc: KubeConfig, name: string): Promise<number | undefined> {
  return (await new CustomResources<SpiderSubnet>(kc, SUBNET_PLURAL).get(name))?.status?.allocatedIPCount;
}

/** uid's last segment, first five characters: the tail of an automatic pool's name. */
export const uid5 = (uid: string | undefined): string => (uid ?? "").split("-").pop()?.slice(0, 5) ?? "";

/** Pods matching `labelSelector` that run, are not terminating and carry a reservation. */
export async function runningWithAddresses(kc: KubeConfig, ns: string, labelSelector: string): Promise<V1Pod[]> {
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns, labelSelector });
  return list.items.filter((p) => p.status?.phase === "Running" && !p.metadata?.deletionTimestamp && p.metadata?.annotations?.["ipam.spidernet.io/assigned-ips"]);
}

/** The FailedCreate events in a namespace (a controller whose Pod was refused). */
export async function failedCreates(kc: KubeConfig, ns: string): Promise<string[]> {
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns });
  return list.items.filter((e) => e.reason === "FailedCreate").map((e) => `${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message ?? ""}`);
}

/** kwok nodes (simulated by the e2e control plane's kwok), Ready before this returns. */
export async function createKwokNodes(kc: KubeConfig, names: readonly string[], labels: Record<string, string> = {}): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (const name of names) {
    await core.createNode({ body: { metadata: { name, annotations: { "kwok.x-k8s.io/node": "fake" }, labels: { ...labels, "kubernetes.io/hostname": name, type: "kwok" } } } });
  }
  await waitFor("kwok nodes Ready", async () => {
    const list = await core.listNode();
    return names.every((n) => list.items.find((x) => x.metadata?.name === n)?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
  }, 60000);
}

export async function deleteNodes(kc: KubeConfig, names: readonly string[]): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (const name of names) await core.deleteNode({ name }).catch(() => undefined);
}
