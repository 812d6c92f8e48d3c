import { type CIDR, cidrContains, cidrsOverlap, formatCIDR, isDefaultRoute, parseCIDR } from "../address/cidr.js";
import { type Family, familyName, formatIP, parseIPOfFamily } from "../address/ip.js";
import { canonicalIPList, parseIPList } from "../address/iplist.js";
import { IPSet } from "../address/ipset.js";
import type { LabelSelector, Route } from "./meta.js";

/**
 * Rules shared by the specs of SpiderIPPool and SpiderSubnet (same fields from ipVersion to
 * routes). Each violation is one sentence naming the field, the value and the rule, the way
 * the admission webhook shows it to the user.
 */
export interface Violation {
  field: string;
  message: string;
}

export interface AddressSpec {
  ipVersion?: Family;
  subnet: string;
  ips?: string[];
  excludeIPs?: string[];
  gateway?: string;
  routes?: Route[];
}

/** The parsed parts of a spec that passed its own field rules. */
export interface ParsedSpec {
  family: Family;
  subnet: CIDR;
  ips: IPSet;
  excluded: IPSet;
  gateway?: bigint;
}

/** The value `fn` parses, or undefined when it throws (for rules that judge other objects). */
export function tryParse<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** At most a few entries of a set, for messages. */
export function sample(set: IPSet, n = 3): string {
  const all = set.toStrings();
  return all.length > n ? `${all.slice(0, n).join(", ")} and ${all.length - n} more` : all.join(", ");
}

/**
 * The mutating step shared by pools and subnets: ips and excludeIPs in canonical form. A
 * list that does not parse is left as it is, for validation to refuse.
 */
export function canonicalizeAddressLists(spec: AddressSpec, family: Family): void {
  for (const field of ["ips", "excludeIPs"] as const) {
    const list = spec[field];
    const canonical = list && tryParse(() => canonicalIPList(list, family, field));
    if (canonical) spec[field] = canonical;
  }
}

/** Checks the address fields; returns the parsed spec when they are all sound. */
export function checkAddressSpec(spec: AddressSpec, out: Violation[]): ParsedSpec | undefined {
  const start = out.length;
  let subnet: CIDR;
  try {
    subnet = parseCIDR(spec.subnet);
  } catch (err) {
    out.push({ field: "spec.subnet", message: `spec.subnet ${message(err)}` });
    return undefined;
  }
  const family = subnet.family;
  if (spec.ipVersion !== undefined && spec.ipVersion !== family) {
    out.push({
      field: "spec.ipVersion",
      message: `spec.ipVersion is ${spec.ipVersion} but spec.subnet ${spec.subnet} is an ${familyName(family)} network; set ipVersion to ${family} or leave it out`,
    });
  }
  const subnetSet = IPSet.fromCIDR(subnet);
  const list = (field: "ips" | "excludeIPs"): IPSet => {
    try {
      const set = parseIPList(spec[field] ?? [], family, `spec.${field}`);
      const outside = set.difference(subnetSet);
      if (!outside.isEmpty) {
        out.push({ field: `spec.${field}`, message: `spec.${field} ${sample(outside)} lie outside spec.subnet ${formatCIDR(subnet)}; every address must be inside the subnet` });
      }
      return set;
    } catch (err) {
      out.push({ field: `spec.${field}`, message: message(err) });
      return IPSet.empty(family);
    }
  };
  const ips = list("ips");
  const excluded = list("excludeIPs");
  let gateway: bigint | undefined;
  if (spec.gateway !== undefined && spec.gateway !== "") {
    try {
      gateway = parseIPOfFamily(spec.gateway, family, "spec.gateway").value;
      if (!cidrContains(subnet, gateway)) {
        out.push({ field: "spec.gateway", message: `spec.gateway ${spec.gateway} lies outside spec.subnet ${formatCIDR(subnet)}; the gateway must be inside the subnet` });
      }
    } catch (err) {
      out.push({ field: "spec.gateway", message: message(err) });
    }
  }
  checkRoutes(spec.routes ?? [], subnet, out);
  return out.length === start ? { family, subnet, ips, excluded, gateway } : undefined;
}

export function checkRoutes(routes: readonly Route[], subnet: CIDR, out: Violation[]): void {
  const seen = new Map<string, number>();
  routes.forEach((route, i) => {
    const field = `spec.routes[${i}]`;
    let dst: CIDR;
    try {
      dst = parseCIDR(route.dst);
    } catch (err) {
      out.push({ field: `${field}.dst`, message: `${field}.dst ${message(err)}` });
      return;
    }
    if (dst.family !== subnet.family) {
      out.push({ field: `${field}.dst`, message: `${field}.dst ${route.dst} is ${familyName(dst.family)} but the subnet is ${familyName(subnet.family)}` });
    } else if (isDefaultRoute(dst)) {
      out.push({ field: `${field}.dst`, message: `${field}.dst ${route.dst} is the default route; set the default route with spec.gateway instead` });
    }
    const key = formatCIDR(dst);
    const first = seen.get(key);
    if (first !== undefined) {
      out.push({ field: `${field}.dst`, message: `${field}.dst ${route.dst} repeats spec.routes[${first}].dst; each destination may appear once` });
    } else {
      seen.set(key, i);
    }
    try {
      const gw = parseIPOfFamily(route.gw, subnet.family, `${field}.gw`).value;
      if (!cidrContains(subnet, gw)) {
        out.push({ field: `${field}.gw`, message: `${field}.gw ${route.gw} lies outside spec.subnet ${formatCIDR(subnet)}; the next hop must be inside the subnet` });
      }
    } catch (err) {
      out.push({ field: `${field}.gw`, message: message(err) });
    }
  });
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function checkNames(field: string, names: readonly string[] | undefined, kind: "namespace" | "node", out: Violation[]): void {
  (names ?? []).forEach((name, i) => {
    const ok = kind === "namespace" ? DNS_LABEL.test(name) && name.length <= 63 : DNS_SUBDOMAIN.test(name) && name.length <= 253;
    if (!ok) out.push({ field: `${field}[${i}]`, message: `${field}[${i}] '${name}' is not a valid ${kind} name` });
  });
}

/** `ns/name` or a bare `name` (the install namespace). */
export function checkMultusNames(names: readonly string[] | undefined, out: Violation[]): void {
  (names ?? []).forEach((entry, i) => {
    const parts = entry.split("/");
    const ok = parts.length <= 2 && parts.every((p) => DNS_SUBDOMAIN.test(p) && p.length <= 253);
    if (!ok) {
      out.push({ field: `spec.multusName[${i}]`, message: `spec.multusName[${i}] '${entry}' is not a NetworkAttachmentDefinition reference; write namespace/name or name` });
    }
  });
}

export function checkSelector(field: string, sel: LabelSelector | undefined, requireNonEmpty: boolean, out: Violation[]): void {
  if (sel === undefined) return;
  const empty = Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0;
  if (empty && requireNonEmpty) {
    out.push({ field, message: `${field} is empty and would match every pod; give it matchLabels or matchExpressions, or remove it` });
  }
  (sel.matchExpressions ?? []).forEach((e, i) => {
    const needsValues = e.operator === "In" || e.operator === "NotIn";
    const count = e.values?.length ?? 0;
    if (needsValues && count === 0) {
      out.push({ field: `${field}.matchExpressions[${i}]`, message: `${field}.matchExpressions[${i}] uses ${e.operator} on '${e.key}' without values; list at least one value` });
    }
    if (!needsValues && count > 0) {
      out.push({ field: `${field}.matchExpressions[${i}]`, message: `${field}.matchExpressions[${i}] uses ${e.operator} on '${e.key}' with values; ${e.operator} takes none` });
    }
  });
}

/** Two specs' networks either are the same CIDR or must not overlap. */
export function conflictingNetwork(a: CIDR, b: CIDR): boolean {
  return cidrsOverlap(a, b) && (a.network !== b.network || a.prefix !== b.prefix);
}

export const sameNetwork = (a: CIDR, b: CIDR): boolean => a.family === b.family && a.network === b.network && a.prefix === b.prefix;

export function formatAddress(family: Family, value: bigint): string {
  return formatIP(family, value);
}
