import type { Family } from "../address/ip.js";
import {
  ANNO_IPPOOL,
  ANNO_IPPOOLS,
  ANNO_NS_DEFAULT_IPV4_IPPOOL,
  ANNO_NS_DEFAULT_IPV6_IPPOOL,
  ANNO_SUBNET,
  ANNO_SUBNETS,
} from "../annotations/keys.js";
import {
  type IPPoolAnnotation,
  type NamesByFamily,
  type NicPools,
  type NicSubnets,
  parseIPPoolAnnotation,
  parseIPPoolsAnnotation,
  parseNamespaceDefaultPools,
  parseSubnetAnnotation,
  parseSubnetsAnnotation,
} from "../annotations/pools.js";
import { specFamily } from "../allocation/pool-view.js";
import { AnnotationError } from "../errors.js";
import type { NicRequest, RuleName, SelectionInput } from "./types.js";

/** The pool annotations of a Pod and its Namespace, parsed once. */
export interface PoolAnnotations {
  readonly subnets?: readonly NicSubnets[];
  readonly subnet?: NicSubnets;
  readonly ippools?: readonly NicPools[];
  readonly ippool?: IPPoolAnnotation;
  readonly namespaceDefaults: NamesByFamily;
}

export interface RuleChoice {
  readonly rule: RuleName;
  readonly kind: "pool" | "subnet";
  readonly names: NamesByFamily;
  readonly cleanGateway: boolean;
}

type Annotations = Readonly<Record<string, string>>;
type SubnetAnnotations = Pick<PoolAnnotations, "subnets" | "subnet">;
type IPPoolAnnotations = Pick<PoolAnnotations, "ippools" | "ippool">;

function checkInterfaces(key: string, annotations: Annotations, named: readonly string[], known: readonly string[]): void {
  const unknown = named.find((n) => !known.includes(n));
  if (unknown !== undefined) {
    throw new AnnotationError(key, annotations[key] ?? "", `names interface ${unknown}, but the pod's interfaces are ${known.join(", ")}`);
  }
}

/** ipam.spidernet.io/subnets, else ipam.spidernet.io/subnet. */
function parseSubnetAnnotations(a: Annotations): SubnetAnnotations {
  const subnets = a[ANNO_SUBNETS];
  if (subnets !== undefined) return { subnets: parseSubnetsAnnotation(subnets) };
  const subnet = a[ANNO_SUBNET];
  return subnet === undefined ? {} : { subnet: parseSubnetAnnotation(subnet) };
}

/** ipam.spidernet.io/ippools, else ipam.spidernet.io/ippool. */
function parseIPPoolAnnotations(a: Annotations): IPPoolAnnotations {
  const ippools = a[ANNO_IPPOOLS];
  if (ippools !== undefined) return { ippools: parseIPPoolsAnnotation(ippools) };
  const ippool = a[ANNO_IPPOOL];
  return ippool === undefined ? {} : { ippool: parseIPPoolAnnotation(ippool) };
}

/** Every interface an annotation names must be one of the Pod's. */
function checkAnnotatedInterfaces(a: Annotations, ann: SubnetAnnotations & IPPoolAnnotations, nics: readonly string[]): void {
  if (ann.subnets) checkInterfaces(ANNO_SUBNETS, a, ann.subnets.map((s) => s.interface), nics);
  if (ann.subnet) checkInterfaces(ANNO_SUBNET, a, [ann.subnet.interface], nics);
  if (ann.ippools) checkInterfaces(ANNO_IPPOOLS, a, ann.ippools.map((p) => p.interface), nics);
  if (ann.ippool?.interface !== undefined) checkInterfaces(ANNO_IPPOOL, a, [ann.ippool.interface], nics);
}

/** ipam.spidernet.io/ippool without an interface is for the Pod's first one. */
function withDefaultInterface(ann: IPPoolAnnotations, first: string | undefined): IPPoolAnnotations {
  if (ann.ippool === undefined || ann.ippool.interface !== undefined || first === undefined) return ann;
  return { ippool: { ...ann.ippool, interface: first } };
}

function namespaceDefaultPools(ns: Annotations): NamesByFamily {
  const v4 = ns[ANNO_NS_DEFAULT_IPV4_IPPOOL];
  const v6 = ns[ANNO_NS_DEFAULT_IPV6_IPPOOL];
  return {
    ipv4: v4 === undefined ? [] : parseNamespaceDefaultPools(4, v4),
    ipv6: v6 === undefined ? [] : parseNamespaceDefaultPools(6, v6),
  };
}

/** Parses and cross-checks the annotations; AnnotationError on the first bad one. */
export function readPoolAnnotations(input: SelectionInput): PoolAnnotations {
  const a = input.pod.annotations ?? {};
  // With SpiderSubnet off the subnet annotations are not read at all, as in Spiderpool.
  const subnets = input.config.enableSpiderSubnet ? parseSubnetAnnotations(a) : {};
  const ippools = parseIPPoolAnnotations(a);
  checkAnnotatedInterfaces(a, { ...subnets, ...ippools }, input.interfaces ?? input.nics.map((n) => n.interface));
  return {
    ...subnets,
    ...withDefaultInterface(ippools, input.nics[0]?.interface),
    namespaceDefaults: namespaceDefaultPools(input.namespace?.annotations ?? {}),
  };
}

const some = (n: NamesByFamily | undefined): n is NamesByFamily => n !== undefined && (n.ipv4.length > 0 || n.ipv6.length > 0);

/** Pools with `default: true`, by family, in name order (Spiderpool's order among them is random). */
function defaultPools(input: SelectionInput): NamesByFamily {
  const byFamily: Record<Family, string[]> = { 4: [], 6: [] };
  for (const p of input.pools) {
    if (p.spec.default !== true) continue;
    const name = p.metadata.name ?? "";
    try {
      byFamily[specFamily(name, p.spec)].push(name);
    } catch {
      // An unreadable pool cannot be a default; the validating webhook reports it.
    }
  }
  return { ipv4: byFamily[4].sort(), ipv6: byFamily[6].sort() };
}

function ruleChoice(nic: NicRequest, rule: RuleName, names: NamesByFamily, kind: RuleChoice["kind"] = "pool", cleanGateway = nic.cleanGateway ?? false): RuleChoice {
  return { rule, kind, names, cleanGateway };
}

/** The rules of the Pod's own annotations: subnets, subnet, ippools, ippool. */
function annotatedRule(nic: NicRequest, input: SelectionInput, ann: PoolAnnotations): RuleChoice | undefined {
  if (input.config.enableSpiderSubnet) {
    const multi = ann.subnets?.find((s) => s.interface === nic.interface);
    if (multi !== undefined) return ruleChoice(nic, "subnets", multi, "subnet");
    if (ann.subnet?.interface === nic.interface) return ruleChoice(nic, "subnet", ann.subnet, "subnet");
  }
  const perNic = ann.ippools?.find((p) => p.interface === nic.interface);
  if (perNic !== undefined) return ruleChoice(nic, "ippools", perNic, "pool", perNic.cleanGateway);
  if (ann.ippool?.interface === nic.interface) return ruleChoice(nic, "ippool", ann.ippool);
  return undefined;
}

/** The default rules: the namespace's, the CNI configuration's, the cluster's, then pools marked default. */
function defaultRule(nic: NicRequest, input: SelectionInput, ann: PoolAnnotations): RuleChoice | undefined {
  if (some(ann.namespaceDefaults)) return ruleChoice(nic, "namespace-default", ann.namespaceDefaults);
  const cni = nic.cniDefaults;
  if (cni !== undefined && some({ ipv4: cni.ipv4 ?? [], ipv6: cni.ipv6 ?? [] })) {
    return ruleChoice(nic, "cni-default", { ipv4: cni.ipv4 ?? [], ipv6: cni.ipv6 ?? [] });
  }
  const cluster = { ipv4: input.config.clusterDefaultIPv4IPPool, ipv6: input.config.clusterDefaultIPv6IPPool };
  if (some(cluster)) return ruleChoice(nic, "cluster-default", cluster);
  const defaults = defaultPools(input);
  if (some(defaults)) return ruleChoice(nic, "default-pools", defaults);
  return undefined;
}

/** The first rule of api.md that applies to this NIC, or undefined when none does. */
export function chooseRule(nic: NicRequest, input: SelectionInput, ann: PoolAnnotations): RuleChoice | undefined {
  return annotatedRule(nic, input, ann) ?? defaultRule(nic, input, ann);
}

/** Where the names of a rule came from, for messages. */
export function describeRule(rule: RuleName, family: Family): string {
  switch (rule) {
    case "subnets":
      return `annotation ${ANNO_SUBNETS}`;
    case "subnet":
      return `annotation ${ANNO_SUBNET}`;
    case "ippools":
      return `annotation ${ANNO_IPPOOLS}`;
    case "ippool":
      return `annotation ${ANNO_IPPOOL}`;
    case "namespace-default":
      return `namespace annotation ${family === 4 ? ANNO_NS_DEFAULT_IPV4_IPPOOL : ANNO_NS_DEFAULT_IPV6_IPPOOL}`;
    case "cni-default":
      return `CNI config default_ipv${family}_ippool`;
    case "cluster-default":
      return `cluster config clusterDefaultIPv${family}IPPool`;
    case "default-pools":
      return "pools with default: true";
  }
}
