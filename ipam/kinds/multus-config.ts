import type { ObjectMeta } from "./meta.js";

export const MULTUS_CONFIG_KIND = "SpiderMultusConfig";
export const MULTUS_CONFIG_PLURAL = "spidermultusconfigs";

/** Spiderpool's annotations on a SpiderMultusConfig: the generated NAD's name and its config's cniVersion. */
export const ANNO_NAD_NAME = "multus.spidernet.io/cr-name";
export const ANNO_NAD_CNI_VERSION = "multus.spidernet.io/cni-version";
/** The cniVersion of a generated NAD when the annotation does not say (Spiderpool's default). */
export const DEFAULT_NAD_CNI_VERSION = "0.3.1";
export const NAD_CNI_VERSIONS = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"] as const;

export const CNI_TYPES = ["macvlan", "ipvlan", "sriov", "ovs", "ib-sriov", "custom"] as const;
export type CniType = (typeof CNI_TYPES)[number];

/** `ippools`: the default pools written into the generated config's ipam stanza. */
export interface SpiderpoolPools {
  ipv4?: string[];
  ipv6?: string[];
}

export interface BondConfig {
  name: string;
  /** Linux bonding mode, 0–6. */
  mode: number;
  options?: string;
}

/** macvlan and ipvlan: one master, or several bonded into `bond`. */
export interface VlanCniConfig {
  master: string[];
  vlanID?: number;
  bond?: BondConfig;
  ippools?: SpiderpoolPools;
}

export interface SriovCniConfig {
  resourceName: string;
  vlanID?: number;
  minTxRateMbps?: number;
  maxTxRateMbps?: number;
  enableRdma?: boolean;
  ippools?: SpiderpoolPools;
}

export interface IBSriovCniConfig {
  resourceName: string;
  pkey?: string;
  linkState?: "auto" | "enable" | "disable";
  rdmaIsolation?: boolean;
  ibKubernetesEnabled?: boolean;
  ippools?: SpiderpoolPools;
}

export interface OvsTrunk {
  minID?: number;
  maxID?: number;
  id?: number;
}

export interface OvsCniConfig {
  bridge: string;
  vlan?: number;
  trunk?: OvsTrunk[];
  deviceID?: string;
  ippools?: SpiderpoolPools;
}

/** The coordinator section (Spiderpool's CoordinatorSpec, as a SpiderMultusConfig carries it). */
export interface CoordinatorSpec {
  mode?: "auto" | "underlay" | "overlay" | "disabled";
  podCIDRType?: "auto" | "cluster" | "calico" | "cilium" | "none";
  hijackCIDR?: string[];
  podMACPrefix?: string;
  tunePodRoutes?: boolean;
  podDefaultRouteNIC?: string;
  hostRuleTable?: number;
  hostRPFilter?: number;
  podRPFilter?: number;
  txQueueLen?: number;
  detectIPConflict?: boolean;
  detectGateway?: boolean;
  vethLinkAddress?: string;
}

export interface MultusConfigSpec {
  cniType: CniType;
  macvlan?: VlanCniConfig;
  ipvlan?: VlanCniConfig;
  sriov?: SriovCniConfig;
  ovs?: OvsCniConfig;
  ibsriov?: IBSriovCniConfig;
  /** true unless set false: the generated config chains the coordinator plugin. */
  enableCoordinator?: boolean;
  /** true: the main plugin gets no ipam stanza (its NIC is then not Spiderpool's). */
  disableIPAM?: boolean;
  coordinator?: CoordinatorSpec;
  /** cniType custom: the whole CNI config as JSON text (may be empty). */
  customCNI?: string;
}

/** SpiderMultusConfig (namespaced, short name `smc`): the controller makes and owns the matching NetworkAttachmentDefinition. */
export interface SpiderMultusConfig {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: MultusConfigSpec;
}

/** The name of the NetworkAttachmentDefinition a SpiderMultusConfig makes (same namespace). */
export function nadNameOf(smc: SpiderMultusConfig): string {
  return smc.metadata.annotations?.[ANNO_NAD_NAME] || (smc.metadata.name ?? "");
}
