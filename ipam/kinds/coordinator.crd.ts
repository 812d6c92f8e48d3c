import { bool, int, str, strList, type CrdDefinition, type SameKeys, type Schema } from "./crd-common.js";
import { COORDINATOR_MODES, POD_CIDR_TYPES, type CoordinatorSpec, type CoordinatorStatus } from "./coordinator.js";

// The apiserver refuses a bad SpiderCoordinator by itself: enums, ranges, and CEL's
// isCIDR/isIP for the addresses (Kubernetes 1.31+). No webhook is needed for one object.
// The size limits keep CEL's estimated cost within the apiserver's budget.
const cidrs = (description: string): Schema => ({
  type: "array",
  description,
  maxItems: 64,
  items: { type: "string", maxLength: 43 },
  "x-kubernetes-validations": [{ rule: "self.all(c, isCIDR(c))", message: "each entry must be a CIDR, e.g. 10.233.0.0/18" }],
});

const specProperties = {
  mode: str("what the coordinator does: underlay (veth to the node), overlay (not supported here), auto, disabled", { enum: [...COORDINATOR_MODES], default: "auto" }),
  podCIDRType: str("where the controller finds the overlay Pod CIDRs for status.overlayPodCIDR: auto and cluster read the Nodes' podCIDRs, none leaves it empty", { enum: [...POD_CIDR_TYPES], default: "auto" }),
  hijackCIDR: cidrs("more CIDRs the Pods reach through the node (e.g. NodeLocal DNS 169.254.20.10/32)"),
  podMACPrefix: str("two bytes that start every Pod NIC's MAC, e.g. 0a:1b; empty: keep the MAC", { pattern: "^([0-9a-fA-F][02468aceACE][:-][0-9a-fA-F]{2})?$" }),
  tunePodRoutes: bool("give each NIC of a multi-NIC Pod its own routing table and rules"),
  podDefaultRouteNIC: str("the NIC that holds a multi-NIC Pod's default route; empty: the first NIC", { maxLength: 15 }),
  hostRuleTable: int("the node's routing table for the routes back to Pods", { minimum: 1, maximum: 4294967294, default: 500 }),
  hostRPFilter: int("rp_filter on the node's end of each veth; -1 leaves it", { minimum: -1, maximum: 2, default: 0 }),
  podRPFilter: int("rp_filter in the Pod; -1 leaves it", { minimum: -1, maximum: 2, default: 0 }),
  detectIPConflict: bool("refuse a Pod whose address answers an ARP probe or fails IPv6 duplicate address detection"),
  detectGateway: bool("refuse a Pod whose gateway does not answer a ping"),
  vethLinkAddress: str("an address for the Pod's veth0, e.g. 169.254.100.1", { maxLength: 45, "x-kubernetes-validations": [{ rule: "self == '' || isIP(self)", message: "must be an IP address" }] }),
  txQueueLen: int("transmit queue length of the veth pair; 0: the kernel's", { minimum: 0 }),
  vethMTU: int("MTU of the veth pair; 0: the Pod NIC's", { minimum: 0, maximum: 65535 }),
} satisfies Record<string, Schema>;

const statusProperties = {
  phase: str("Synced, or NotReady (see reason)"),
  reason: str("why the status is NotReady"),
  overlayPodCIDR: strList("the overlay Pod CIDRs found for podCIDRType"),
  serviceCIDR: strList("the cluster's Service CIDRs (ServiceCIDR objects)"),
} satisfies Record<string, Schema>;

const _specKeys: SameKeys<typeof specProperties, Required<CoordinatorSpec>> = true;
const _statusKeys: SameKeys<typeof statusProperties, Required<CoordinatorStatus>> = true;
void _specKeys;
void _statusKeys;

export const coordinatorCrd: CrdDefinition = {
  kind: "SpiderCoordinator",
  plural: "spidercoordinators",
  singular: "spidercoordinator",
  listKind: "SpiderCoordinatorList",
  shortNames: ["scc"],
  scope: "Cluster",
  printerColumns: [
    { name: "MODE", type: "string", jsonPath: ".spec.mode" },
    { name: "PODCIDRTYPE", type: "string", jsonPath: ".spec.podCIDRType" },
    { name: "PHASE", type: "string", jsonPath: ".status.phase" },
  ],
  spec: { type: "object", properties: specProperties },
  status: { type: "object", properties: statusProperties },
};
