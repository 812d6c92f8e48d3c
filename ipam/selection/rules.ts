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

function checkInterfaces(key: string, value: string, named: readonly string[], nics: readonly NicRequest[]): void {
  const known = nics.map((n) => n.interface);
  const unknown = named.find((n) => !known.includes(n));
  if (unknown !== undefined) {
    throw new AnnotationError(key, value, `names interface ${unknown}, but the pod's interfaces are ${known.join(", ")}`);
  }
}

/** Parses and cross-checks the annotations; AnnotationError on the first bad one. */
export function readPoolAnnotations(input: SelectionInput): PoolAnnotations {
  const a = input.pod.annotations ?? {};
  const ns = input.namespace?.annotations ?? {};
  const first = input.nics[0]?.interface;
  const out: {
    subnets?: NicSubnets[];
    subnet?: NicSubnets;
    ippools?: NicPools[];
    ippool?: IPPoolAnnotation;
  } = {};
  // With SpiderSubnet off the subnet annotations are not read at all, as in Spiderpool.
  const subnets = input.config.enableSpiderSubnet ? a[ANNO_SUBNETS] : undefined;
  const subnet = input.config.enableSpiderSubnet ? a[ANNO_SUBNET] : undefined;
  if (subnets !== undefined) out.subnets = parseSubnetsAnnotation(subnets);
  else if (subnet !== undefined) out.subnet = parseSubnetAnnotation(subnet);
  const ippools = a[ANNO_IPPOOLS];
  const ippool = a[ANNO_IPPOOL];
  if (ippools !== undefined) out.ippools = parseIPPoolsAnnotation(ippools);
  else if (ippool !== undefined) out.ippool = parseIPPoolAnnotation(ippool);
  if (subnets !== undefined) checkInterfaces(ANNO_SUBNETS, subnets, out.subnets?.map((s) => s.interface) ?? [], input.nics);
  if (subnet !== undefined && out.subnet) checkInterfaces(ANNO_SUBNET, subnet, [out.subnet.interface], input.nics);
  if (ippools !== undefined) checkInterfaces(ANNO_IPPOOLS, ippools, out.ippools?.map((p) => p.interface) ?? [], input.nics);
  if (ippool !== undefined && out.ippool?.interface !== undefined) {
    checkInterfaces(ANNO_IPPOOL, ippool, [out.ippool.interface], input.nics);
  }
  if (out.ippool !== undefined && out.ippool.interface === undefined && first !== undefined) {
    out.ippool = { ...out.ippool, interface: first };
  }
  const v4 = ns[ANNO_NS_DEFAULT_IPV4_IPPOOL];
  const v6 = ns[ANNO_NS_DEFAULT_IPV6_IPPOOL];
  const namespaceDefaults = {
    ipv4: v4 === undefined ? [] : parseNamespaceDefaultPools(4, v4),
    ipv6: v6 === undefined ? [] : parseNamespaceDefaultPools(6, v6),
  };
  return { ...out, namespaceDefaults };
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

/** The first rule of api.md that applies to this NIC, or undefined when none does. */
export function chooseRule(nic: NicRequest, input: SelectionInput, ann: PoolAnnotations): RuleChoice | undefined {
  const cniClean = nic.cleanGateway ?? false;
  const pick = (rule: RuleName, names: NamesByFamily, cleanGateway = cniClean, kind: "pool" | "subnet" = "pool") => ({
    rule,
    kind,
    names,
    cleanGateway,
  });
  if (input.config.enableSpiderSubnet) {
    const multi = ann.subnets?.find((s) => s.interface === nic.interface);
    if (multi !== undefined) return pick("subnets", multi, cniClean, "subnet");
    if (ann.subnet?.interface === nic.interface) return pick("subnet", ann.subnet, cniClean, "subnet");
  }
  const perNic = ann.ippools?.find((p) => p.interface === nic.interface);
  if (perNic !== undefined) return pick("ippools", perNic, perNic.cleanGateway);
  if (ann.ippool?.interface === nic.interface) return pick("ippool", ann.ippool);
  if (some(ann.namespaceDefaults)) return pick("namespace-default", ann.namespaceDefaults);
  const cni = nic.cniDefaults;
  if (cni !== undefined && some({ ipv4: cni.ipv4 ?? [], ipv6: cni.ipv6 ?? [] })) {
    return pick("cni-default", { ipv4: cni.ipv4 ?? [], ipv6: cni.ipv6 ?? [] });
  }
  const cluster = { ipv4: input.config.clusterDefaultIPv4IPPool, ipv6: input.config.clusterDefaultIPv6IPPool };
  if (some(cluster)) return pick("cluster-default", cluster);
  const defaults = defaultPools(input);
  if (some(defaults)) return pick("default-pools", defaults);
  return undefined;
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
