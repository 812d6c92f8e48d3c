/**
 * SpiderCoordinator: the cluster-wide defaults of the `coordinator` CNI plugin, in
 * Spiderpool's shape (one object, named `default`). Its spec is what an administrator
 * chooses; its status is what the controller finds out (the Service CIDRs, and the overlay
 * Pod CIDRs for podCIDRType). The agent hands both to the plugin, under the network
 * config's field names; a network config's own fields win (docs/coordinator.md).
 */
import type { ObjectMeta } from "./meta.js";

export const COORDINATOR_KIND = "SpiderCoordinator";
export const COORDINATOR_PLURAL = "spidercoordinators";
/** The one SpiderCoordinator the agent and the controller act on. */
export const DEFAULT_COORDINATOR = "default";
/** On a Pod: the NIC that holds its default route (Spiderpool's annotation). */
export const ANNO_DEFAULT_ROUTE_NIC = "ipam.spidernet.io/default-route-nic";

export const COORDINATOR_MODES = ["auto", "underlay", "overlay", "disabled"] as const;
export const POD_CIDR_TYPES = ["auto", "cluster", "calico", "cilium", "none"] as const;

export interface CoordinatorSpec {
  mode?: (typeof COORDINATOR_MODES)[number];
  podCIDRType?: (typeof POD_CIDR_TYPES)[number];
  hijackCIDR?: string[];
  podMACPrefix?: string;
  tunePodRoutes?: boolean;
  podDefaultRouteNIC?: string;
  hostRuleTable?: number;
  hostRPFilter?: number;
  podRPFilter?: number;
  detectIPConflict?: boolean;
  detectGateway?: boolean;
  vethLinkAddress?: string;
  txQueueLen?: number;
  vethMTU?: number;
}

export interface CoordinatorStatus {
  /** "Synced", or "NotReady" with a reason. */
  phase?: string;
  reason?: string;
  overlayPodCIDR?: string[];
  serviceCIDR?: string[];
}

export interface SpiderCoordinator {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: CoordinatorSpec;
  status?: CoordinatorStatus;
}

/**
 * What the plugin gets as the cluster's defaults: the spec's fields (podCIDRType is the
 * controller's business, not the plugin's) and the status's CIDRs.
 */
export function coordinatorDefaults(c: SpiderCoordinator | undefined): Record<string, unknown> {
  if (c === undefined || c.metadata.deletionTimestamp) return {};
  const { podCIDRType: _type, ...spec } = c.spec;
  const out: Record<string, unknown> = { ...spec };
  if (c.status?.serviceCIDR?.length) out.serviceCIDR = [...c.status.serviceCIDR];
  if (c.status?.overlayPodCIDR?.length) out.overlayPodCIDR = [...c.status.overlayPodCIDR];
  return out;
}

/** What the controller found in the cluster. `serviceCIDRs` undefined: the ServiceCIDR API is not served. */
export interface ClusterNetworkFacts {
  serviceCIDRs?: readonly string[];
  nodePodCIDRs: readonly string[];
}

const sortedUnique = (xs: readonly string[]): string[] => [...new Set(xs)].sort();

/** The status the controller writes for `spec` (pure; the reconciler compares and writes). */
export function coordinatorStatus(spec: CoordinatorSpec, facts: ClusterNetworkFacts): CoordinatorStatus {
  const serviceCIDR = sortedUnique(facts.serviceCIDRs ?? []);
  const type = spec.podCIDRType ?? "auto";
  const reasons: string[] = [];
  if (facts.serviceCIDRs === undefined) reasons.push("the apiserver serves no networking.k8s.io/v1 ServiceCIDR: list the Service CIDRs in hijackCIDR");
  let overlayPodCIDR: string[] = [];
  if (type === "auto" || type === "cluster") overlayPodCIDR = sortedUnique(facts.nodePodCIDRs);
  else if (type === "calico" || type === "cilium") reasons.push(`podCIDRType ${type} is not read by this controller: set podCIDRType none and list the overlay's Pod CIDRs in hijackCIDR`);
  const status: CoordinatorStatus = { phase: reasons.length === 0 ? "Synced" : "NotReady", overlayPodCIDR, serviceCIDR };
  if (reasons.length > 0) status.reason = reasons.join("; ");
  return status;
}
