import { CoreV1Api, type KubeConfig, type V1ConfigMap, type V1Namespace, type V1Node } from "@kubernetes/client-node";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../ipam/kinds/endpoint.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../ipam/kinds/ippool.js";
import type { PodLike } from "../ipam/kinds/pod.js";
import { RESERVEDIP_PLURAL, type SpiderReservedIP } from "../ipam/kinds/reservedip.js";
import { SUBNET_PLURAL, type SpiderSubnet } from "../ipam/kinds/subnet.js";
import { MULTUS_CONFIG_PLURAL, type SpiderMultusConfig } from "../ipam/kinds/multus-config.js";
import { NAD_GROUP, NAD_PLURAL, NAD_VERSION, type NetworkAttachmentDefinition } from "../ipam/kinds/network-attachment.js";
import type { Log } from "../ipam/ports.js";
import { startInformer, type StartedInformer } from "../k8s/informer.js";
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
    return startInformer<T>(kc, { name: plural, path: api.path, list: () => api.list(), log });
  };
  const ns = config.namespace;
  const byName = `metadata.name=${config.ipam.configMap}`;
  return {
    pools: custom<SpiderIPPool>(IPPOOL_PLURAL),
    subnets: custom<SpiderSubnet>(SUBNET_PLURAL),
    reserved: custom<SpiderReservedIP>(RESERVEDIP_PLURAL),
    endpoints: custom<SpiderEndpoint>(ENDPOINT_PLURAL, true),
    pods: startInformer<PodLike>(kc, { name: "pods", path: "/api/v1/pods", list: async () => (await core.listPodForAllNamespaces()) as never, log }),
    namespaces: startInformer(kc, { name: "namespaces", path: "/api/v1/namespaces", list: () => core.listNamespace(), log }),
    nodes: startInformer(kc, { name: "nodes", path: "/api/v1/nodes", list: () => core.listNode(), log }),
    multusConfigs: custom<SpiderMultusConfig>(MULTUS_CONFIG_PLURAL, true),
    nads: custom<NetworkAttachmentDefinition>(NAD_PLURAL, true, { group: NAD_GROUP, version: NAD_VERSION }),
    configMaps: startInformer(kc, {
      name: "configmaps",
      path: `/api/v1/namespaces/${ns}/configmaps`,
      list: () => core.listNamespacedConfigMap({ namespace: ns, fieldSelector: byName }),
      log,
      fieldSelector: byName,
    }),
  };
}

/** Allocation waits until every cache has its first list: truth comes from the pools, never from a half-filled cache. */
export function allSynced(i: ControllerInformers): boolean {
  return (Object.entries(i) as [keyof ControllerInformers, StartedInformer<unknown>][]).every(([k, c]) => OPTIONAL.has(k) || c.isSynced());
}

export async function stopInformers(i: ControllerInformers): Promise<void> {
  await Promise.all(Object.values(i).map((c: StartedInformer<unknown>) => c.stop()));
}
