import { CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { parseAssignedIPs, type AssignedIPs } from "../ipam/annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../ipam/annotations/keys.js";
import { IPPOOL_PLURAL, type IPPoolSpec, type SpiderIPPool } from "../ipam/kinds/ippool.js";
import { API_VERSION } from "../ipam/kinds/meta.js";
import { NAD_API_VERSION, NAD_GROUP, NAD_KIND, NAD_PLURAL, NAD_VERSION, type NetworkAttachmentDefinition } from "../ipam/kinds/network-attachment.js";
import { CustomResources } from "../k8s/resources.js";

/** A minimal Pod (no scheduler needed: its addresses come at admission). */
export function podSpec(name: string | { generateName: string }, annotations: Record<string, string> = {}, extra: Partial<V1Pod["spec"]> = {}): V1Pod {
  const id = typeof name === "string" ? { name } : name;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { ...id, annotations },
    spec: { containers: [{ name: "c", image: "example.invalid/app:1" }], ...extra },
  };
}

export function assignedOf(pod: V1Pod): AssignedIPs {
  const text = pod.metadata?.annotations?.[ANNO_ASSIGNED_IPS];
  if (!text) throw new Error(`pod ${pod.metadata?.name} has no ${ANNO_ASSIGNED_IPS}`);
  return parseAssignedIPs(text);
}

export async function createPod(kc: KubeConfig, namespace: string, pod: V1Pod): Promise<V1Pod> {
  return kc.makeApiClient(CoreV1Api).createNamespacedPod({ namespace, body: pod });
}

/** Creates a pool labelled for a local controller's webhooks (its `labels`) and returns it as stored. */
export async function createPool(kc: KubeConfig, labels: Record<string, string>, name: string, spec: Partial<IPPoolSpec>): Promise<SpiderIPPool> {
  const pools = new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL);
  return pools.create({ apiVersion: API_VERSION, kind: "SpiderIPPool", metadata: { name, labels }, spec: spec as IPPoolSpec });
}

/** A NetworkAttachmentDefinition whose config is one macvlan plugin with this ipam stanza (omitted when undefined). */
export function macvlanNad(namespace: string, name: string, ipam: Record<string, unknown> | undefined, master = "eth1"): NetworkAttachmentDefinition {
  const plugin = { type: "macvlan", master, mode: "bridge", ...(ipam ? { ipam } : {}) };
  return { apiVersion: NAD_API_VERSION, kind: NAD_KIND, metadata: { name, namespace }, spec: { config: JSON.stringify({ cniVersion: "1.0.0", name, plugins: [plugin] }) } };
}

/** NetworkAttachmentDefinitions, read and written as the controller does. */
export function nadStore(kc: KubeConfig): CustomResources<NetworkAttachmentDefinition> {
  return new CustomResources<NetworkAttachmentDefinition>(kc, NAD_PLURAL, true, { group: NAD_GROUP, version: NAD_VERSION });
}
