import type { Family } from "../address/ip.js";
import type { NetworkRef } from "../kinds/meta.js";
import type { SpiderIPPool } from "../kinds/ippool.js";
import type { LabelSelector } from "../kinds/meta.js";
import type { SpiderSubnet } from "../kinds/subnet.js";
import type { Labels } from "./label-selector.js";

/** The rules of api.md "Which pools a NIC may use", in order. */
export type RuleName =
  | "subnets"
  | "subnet"
  | "ippools"
  | "ippool"
  | "namespace-default"
  | "cni-default"
  | "cluster-default"
  | "default-pools";

/** Why a named pool (or subnet) cannot serve this NIC, in the order the filters run. */
export type FilterReason =
  | "not-found"
  | "invalid"
  | "terminating"
  | "disabled"
  | "wrong-family"
  | "node"
  | "namespace"
  | "pod"
  | "multus";

export interface Filtered {
  readonly name: string;
  readonly reason: FilterReason;
  /** Completes "pool-a …", e.g. "does not serve node worker-2 (nodeName [worker-1])". */
  readonly detail: string;
}

/** Where a node-affine pool can be used: added to the Pod's scheduling when the node is not known yet. */
export type NodeConstraint = { readonly nodeName: readonly string[] } | { readonly nodeAffinity: LabelSelector };

export interface Candidate {
  readonly name: string;
  readonly node?: NodeConstraint;
}

export interface FamilyCandidates {
  readonly family: Family;
  readonly rule: RuleName;
  /** "subnet" for the subnet rules: the names are SpiderSubnets whose auto pools are made elsewhere. */
  readonly kind: "pool" | "subnet";
  /** In the order to try them. */
  readonly candidates: readonly Candidate[];
  readonly filtered: readonly Filtered[];
}

export interface NicCandidates {
  readonly interface: string;
  readonly network?: NetworkRef;
  readonly cleanGateway: boolean;
  readonly ipv4?: FamilyCandidates;
  readonly ipv6?: FamilyCandidates;
}

/** One NIC to serve: its name, the Multus network it is attached through, its CNI config's defaults. */
export interface NicRequest {
  readonly interface: string;
  readonly network?: NetworkRef;
  /** `default_ipv4_ippool` / `default_ipv6_ippool` of the NIC's CNI network config. */
  readonly cniDefaults?: { readonly ipv4?: readonly string[]; readonly ipv6?: readonly string[] };
  /** `clean_gateway` of the NIC's CNI network config. */
  readonly cleanGateway?: boolean;
}

export interface SelectionConfig {
  readonly enableIPv4: boolean;
  readonly enableIPv6: boolean;
  readonly enableSpiderSubnet: boolean;
  readonly clusterDefaultIPv4IPPool: readonly string[];
  readonly clusterDefaultIPv6IPPool: readonly string[];
  /** Where a bare `multusName` entry is looked up. */
  readonly installNamespace: string;
}

export interface SelectionInput {
  /** The namespace comes from the AdmissionRequest when the object lacks it; the name may be unknown. */
  readonly pod: {
    readonly namespace: string;
    readonly name?: string;
    readonly labels?: Labels;
    readonly annotations?: Labels;
  };
  readonly namespace?: { readonly labels?: Labels; readonly annotations?: Labels };
  /** Known when the Pod names its node (DaemonSet, spec.nodeName) or at CNI time. */
  readonly node?: { readonly name: string; readonly labels?: Labels };
  /** The Pod's Spiderpool NICs, first one first (see podInterfaces and spiderpoolNics). */
  readonly nics: readonly NicRequest[];
  /** Every NIC of the Pod, Spiderpool's or not: an annotation may name any of them. Defaults to `nics`. */
  readonly interfaces?: readonly string[];
  readonly pools: readonly SpiderIPPool[];
  readonly subnets: readonly SpiderSubnet[];
  readonly config: SelectionConfig;
}
