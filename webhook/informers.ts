import { AppsV1Api, BatchV1Api, CoreV1Api, type KubeConfig, type V1ConfigMap, type V1Namespace, type V1Node } from "@kubernetes/client-node";
import type { ApplicationKind, Workload } from "../ipam/kinds/application.js";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../ipam/kinds/endpoint.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../ipam/kinds/ippool.js";
import type { PodLike } from "../ipam/kinds/pod.js";
import { RESERVEDIP_PLURAL, type SpiderReservedIP } from "../ipam/kinds/reservedip.js";
import { SUBNET_PLURAL, type SpiderSubnet } from "../ipam/kinds/subnet.js";
import { MULTUS_CONFIG_PLURAL, type SpiderMultusConfig } from "../ipam/kinds/multus-config.js";
import { NAD_GROUP, NAD_PLURAL, NAD_VERSION, type NetworkAttachmentDefinition } from "../ipam/kinds/network-attachment.js";
import type { Log } from "../ipam/ports.js";
import { startInformer, type StartedInformer } from "../k8s/informer.js";
import { trimObject, trimPod } from "../k8s/trim.js";
import { CustomResources } from "../k8s/resources.js";
import type { ControllerConfig } from "./config.js";

/** Every cache the controller keeps, each started once and shared by the parts that read it. */
export interface ControllerInformers {
  pools: StartedInformer<SpiderIPPool>;
  subnets: StartedInformer<SpiderSubnet>;
  reserved: StartedInformer<SpiderReservedIP>;
  endpoints: StartedInformer<SpiderEndpoint>;
  pods: StartedInformer<PodLike>;
  namespaces: StartedInformer<V1Namespace>;
  nodes: StartedInformer<V1Node>;
  /** The cluster configuration's ConfigMap alone (a field selector on its name). */
  configMaps: StartedInformer<V1ConfigMap>;
  multusConfigs: StartedInformer<SpiderMultusConfig>;
  /** Multus's networks; not needed for readiness (see OPTIONAL). */
  nads: StartedInformer<NetworkAttachmentDefinition>;
  /** The applications automatic pools are sized to (and StatefulSets, whose ordinals keep addresses). */
  applications: Record<ApplicationKind, StartedInformer<Workload>>;
}

/**
 * Caches that readiness does not wait for: without Multus's CRD the NetworkAttachmentDefinition
 * list never succeeds, and admission looks a network up live when the cache misses it anyway.
 */
const OPTIONAL: ReadonlySet<keyof ControllerInformers> = new Set(["nads"]);

export function startControllerInformers(kc: KubeConfig, config: ControllerConfig, log: Log): ControllerInformers {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = <T extends { metadata: object }>(plural: string, namespaced = false, gv?: { group: string; version: string }): StartedInformer<T> => {
    const api = new CustomResources<T & { metadata: { name?: string } }>(kc, plural, namespaced, gv);
    return startInformer<T>(kc, { name: plural, path: api.path, list: () => api.list(), log, trim: trimObject });
  };
  const ns = config.namespace;
  const byName = `metadata.name=${config.ipam.configMap}`;
  return {
    pools: custom<SpiderIPPool>(IPPOOL_PLURAL),
    subnets: custom<SpiderSubnet>(SUBNET_PLURAL),
    reserved: custom<SpiderReservedIP>(RESERVEDIP_PLURAL),
    endpoints: custom<SpiderEndpoint>(ENDPOINT_PLURAL, true),
    // Every replica caches every Pod (the pool writer's guard reads them), so what a Pod costs is what trimPod keeps.
    pods: startInformer<PodLike>(kc, { name: "pods", path: "/api/v1/pods", list: async () => (await core.listPodForAllNamespaces()) as never, log, trim: trimPod }),
    namespaces: startInformer(kc, { name: "namespaces", path: "/api/v1/namespaces", list: () => core.listNamespace(), log, trim: trimObject }),
    nodes: startInformer(kc, { name: "nodes", path: "/api/v1/nodes", list: () => core.listNode(), log, trim: trimObject }),
    multusConfigs: custom<SpiderMultusConfig>(MULTUS_CONFIG_PLURAL, true),
    nads: custom<NetworkAttachmentDefinition>(NAD_PLURAL, true, { group: NAD_GROUP, version: NAD_VERSION }),
    configMaps: startInformer(kc, {
      name: "configmaps",
      path: `/api/v1/namespaces/${ns}/configmaps`,
      list: () => core.listNamespacedConfigMap({ namespace: ns, fieldSelector: byName }),
      log,
      fieldSelector: byName,
    }),
    applications: applicationInformers(kc, log),
  };
}

function applicationInformers(kc: KubeConfig, log: Log): Record<ApplicationKind, StartedInformer<Workload>> {
  const apps = kc.makeApiClient(AppsV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const inform = (name: string, path: string, list: () => Promise<unknown>): StartedInformer<Workload> => startInformer<Workload>(kc, { name, path, list: list as never, log, trim: trimObject });
  return {
    Deployment: inform("deployments", "/apis/apps/v1/deployments", () => apps.listDeploymentForAllNamespaces()),
    ReplicaSet: inform("replicasets", "/apis/apps/v1/replicasets", () => apps.listReplicaSetForAllNamespaces()),
    StatefulSet: inform("statefulsets", "/apis/apps/v1/statefulsets", () => apps.listStatefulSetForAllNamespaces()),
    DaemonSet: inform("daemonsets", "/apis/apps/v1/daemonsets", () => apps.listDaemonSetForAllNamespaces()),
    Job: inform("jobs", "/apis/batch/v1/jobs", () => batch.listJobForAllNamespaces()),
    CronJob: inform("cronjobs", "/apis/batch/v1/cronjobs", () => batch.listCronJobForAllNamespaces()),
  };
}

/** Every informer, the applications' included. */
function allInformers(i: ControllerInformers): StartedInformer<unknown>[] {
  const { applications, ...rest } = i;
  return [...Object.values(rest), ...Object.values(applications)] as StartedInformer<unknown>[];
}

/** Allocation waits until every cache but the OPTIONAL ones has its first list: truth comes from the pools, never from a half-filled cache. */
export function allSynced(i: ControllerInformers): boolean {
  const { applications, ...rest } = i;
  const required = (Object.entries(rest) as [keyof ControllerInformers, StartedInformer<unknown>][]).filter(([k]) => !OPTIONAL.has(k)).map(([, c]) => c);
  return [...required, ...(Object.values(applications) as StartedInformer<unknown>[])].every((c) => c.isSynced());
}

export async function stopInformers(i: ControllerInformers): Promise<void> {
  await Promise.all(allInformers(i).map((c) => c.stop()));
}
