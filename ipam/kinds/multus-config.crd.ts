import { bool, int, str, strList, type CrdDefinition, type SameKeys, type Schema } from "./crd-common.js";
import { CNI_TYPES, type CoordinatorSpec, type MultusConfigSpec } from "./multus-config.js";

const obj = (description: string, properties: Record<string, Schema>, required?: string[]): Schema => ({ type: "object", description, properties, ...(required ? { required } : {}) });

const ippools = obj("default pools written into the generated config's ipam stanza (default_ipv4_ippool, default_ipv6_ippool)", {
  ipv4: strList("IPv4 pool names"),
  ipv6: strList("IPv6 pool names"),
});

const vlanID = int("VLAN id; the master becomes its VLAN interface (master.vlanID)", { minimum: 0, maximum: 4094 });

const bond = obj("the bond over several masters", { name: str("the bond interface"), mode: int("bonding mode", { minimum: 0, maximum: 6 }), options: str("bonding options") }, ["name", "mode"]);

const vlanSection = (plugin: string): Schema =>
  obj(`${plugin} settings`, { master: strList("the node interface(s) the NICs hang off; several need bond", { minItems: 1 }), vlanID, bond, ippools }, ["master"]);

const coordinatorProperties = {
  mode: str("auto, underlay, overlay or disabled", { enum: ["auto", "underlay", "overlay", "disabled"] }),
  podCIDRType: str("auto, cluster, calico, cilium or none", { enum: ["auto", "cluster", "calico", "cilium", "none"] }),
  hijackCIDR: strList("CIDRs reached through the host (e.g. node-local DNS)"),
  podMACPrefix: str("two bytes of a unicast MAC the Pod's MAC starts with, e.g. 0a:1b"),
  tunePodRoutes: bool("tune the routes of multi-NIC Pods"),
  podDefaultRouteNIC: str("the NIC holding the Pod's default route"),
  hostRuleTable: int("routing table for host-to-Pod routes", { minimum: 1 }),
  hostRPFilter: int("rp_filter on the node"),
  podRPFilter: int("rp_filter in the Pod"),
  txQueueLen: int("tx queue length of the Pod's NIC (0: leave as is)", { minimum: 0 }),
  detectIPConflict: bool("refuse the Pod when its address is in use on the link"),
  detectGateway: bool("refuse the Pod when its gateway does not answer"),
  vethLinkAddress: str("link-local address of the veth to the host"),
} satisfies Record<string, Schema>;

const specProperties = {
  cniType: str("the main CNI plugin", { enum: [...CNI_TYPES] }),
  macvlan: vlanSection("macvlan"),
  ipvlan: vlanSection("ipvlan"),
  sriov: obj("SR-IOV settings", {
    resourceName: str("the device plugin's resource"),
    vlanID,
    minTxRateMbps: int("minimum transmit rate (0: no limit)", { minimum: 0 }),
    maxTxRateMbps: int("maximum transmit rate (0: no limit)", { minimum: 0 }),
    enableRdma: bool("chain the rdma plugin"),
    ippools,
  }, ["resourceName"]),
  ovs: obj("OVS settings", {
    bridge: str("the OVS bridge"),
    vlan: int("VLAN tag of the port", { minimum: 0, maximum: 4094 }),
    trunk: { type: "array", description: "VLANs a trunk port accepts", items: obj("one VLAN or a range", { minID: int("first", { minimum: 0, maximum: 4094 }), maxID: int("last", { minimum: 0, maximum: 4094 }), id: int("one", { minimum: 0, maximum: 4094 }) }) },
    deviceID: str("PCI address of a VF"),
    ippools,
  }, ["bridge"]),
  ibsriov: obj("InfiniBand SR-IOV settings", {
    resourceName: str("the device plugin's resource"),
    pkey: str("InfiniBand partition key"),
    linkState: str("auto, enable or disable", { enum: ["auto", "enable", "disable"] }),
    rdmaIsolation: bool("isolate the RDMA device"),
    ibKubernetesEnabled: bool("managed by ib-kubernetes"),
    ippools,
  }, ["resourceName"]),
  enableCoordinator: bool("chain the coordinator plugin after the main one (true unless set false)"),
  disableIPAM: bool("give the main plugin no ipam stanza"),
  coordinator: obj("the chained coordinator plugin's settings", coordinatorProperties),
  customCNI: str("cniType custom: the whole CNI config as JSON"),
} satisfies Record<string, Schema>;

const _specKeys: SameKeys<typeof specProperties, Required<MultusConfigSpec>> = true;
const _coordinatorKeys: SameKeys<typeof coordinatorProperties, Required<CoordinatorSpec>> = true;
void _specKeys;
void _coordinatorKeys;

export const multusConfigCrd: CrdDefinition = {
  kind: "SpiderMultusConfig",
  plural: "spidermultusconfigs",
  singular: "spidermultusconfig",
  listKind: "SpiderMultusConfigList",
  shortNames: ["smc"],
  scope: "Namespaced",
  printerColumns: [{ name: "CNI-TYPE", type: "string", jsonPath: ".spec.cniType" }],
  spec: { type: "object", required: ["cniType"], properties: specProperties },
};
