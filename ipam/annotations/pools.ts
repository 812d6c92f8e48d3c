import { AnnotationReader } from "./json.js";
import {
  ANNO_IPPOOL,
  ANNO_IPPOOLS,
  ANNO_NS_DEFAULT_IPV4_IPPOOL,
  ANNO_NS_DEFAULT_IPV6_IPPOOL,
  ANNO_SUBNET,
  ANNO_SUBNETS,
  defaultInterfaceName,
} from "./keys.js";

/** Pool (or subnet) names per family, in the order the user wrote them. */
export interface NamesByFamily {
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
}

/** `ipam.spidernet.io/ippool`: candidates for the first NIC (or the legacy `interface`). */
export interface IPPoolAnnotation extends NamesByFamily {
  readonly interface?: string;
}

/** One entry of `ipam.spidernet.io/ippools`. */
export interface NicPools extends NamesByFamily {
  readonly interface: string;
  readonly cleanGateway: boolean;
}

/** `ipam.spidernet.io/subnet`, or one entry of `ipam.spidernet.io/subnets`. */
export interface NicSubnets extends NamesByFamily {
  readonly interface: string;
}

function families(r: AnnotationReader, obj: Record<string, unknown>, where: string, what: string): NamesByFamily {
  const ipv4 = r.names(obj.ipv4, `${where}field ipv4`, what);
  const ipv6 = r.names(obj.ipv6, `${where}field ipv6`, what);
  if (ipv4.length === 0 && ipv6.length === 0) r.fail(`${where}names no ${what}; expected ipv4 and/or ipv6, e.g. ${r.example}`);
  return { ipv4, ipv6 };
}

/**
 * Interface names in a per-NIC list are all set or all empty; when empty, entry i is the
 * NIC Multus would create at that position (eth0, net1, net2, …).
 */
function interfaces(r: AnnotationReader, entries: Record<string, unknown>[]): string[] {
  const given = entries.map((e, i) => r.optionalInterface(e.interface, `entry ${i} field interface`));
  const set = given.filter((g) => g !== undefined).length;
  if (set !== 0 && set !== entries.length) r.fail("interface must be set on every entry or on none");
  const names = given.map((g, i) => g ?? defaultInterfaceName(i));
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) r.fail(`interface ${dup} appears twice`);
  return names;
}

function withLists(base: Record<string, unknown>, names: NamesByFamily): Record<string, unknown> {
  const out = { ...base };
  if (names.ipv4.length > 0) out.ipv4 = names.ipv4;
  if (names.ipv6.length > 0) out.ipv6 = names.ipv6;
  return out;
}

export function parseIPPoolAnnotation(value: string): IPPoolAnnotation {
  const r = new AnnotationReader(ANNO_IPPOOL, value, '{"ipv4":["pool-a"],"ipv6":["pool-a6"]}');
  const obj = r.object(r.json(), "the value", ["ipv4", "ipv6", "interface"]);
  const names = families(r, obj, "", "pool");
  const nic = r.optionalInterface(obj.interface, "field interface");
  return nic === undefined ? names : { ...names, interface: nic };
}

export function formatIPPoolAnnotation(a: IPPoolAnnotation): string {
  return JSON.stringify(withLists(a.interface === undefined ? {} : { interface: a.interface }, a));
}

export function parseIPPoolsAnnotation(value: string): NicPools[] {
  const r = new AnnotationReader(ANNO_IPPOOLS, value, '[{"interface":"eth0","ipv4":["pool-a"]},{"interface":"net1","ipv4":["pool-b"]}]');
  const list = r.list(r.json(), "the value");
  if (list.length === 0) r.fail(`the list is empty; expected e.g. ${r.example}`);
  const entries = list.map((e, i) => r.object(e, `entry ${i}`, ["interface", "ipv4", "ipv6", "cleangateway"]));
  const names = interfaces(r, entries);
  return entries.map((e, i) => ({
    interface: names[i] as string,
    ...families(r, e, `entry ${i} `, "pool"),
    cleanGateway: r.boolean(e.cleangateway, `entry ${i} field cleangateway`) ?? false,
  }));
}

export function formatIPPoolsAnnotation(entries: readonly NicPools[]): string {
  return JSON.stringify(entries.map((e) => ({ ...withLists({ interface: e.interface }, e), cleangateway: e.cleanGateway })));
}

export function parseSubnetAnnotation(value: string): NicSubnets {
  const r = new AnnotationReader(ANNO_SUBNET, value, '{"interface":"eth0","ipv4":["subnet-a"],"ipv6":["subnet-a6"]}');
  const obj = r.object(r.json(), "the value", ["interface", "ipv4", "ipv6"]);
  const nic = r.optionalInterface(obj.interface, "field interface") ?? defaultInterfaceName(0);
  return { interface: nic, ...families(r, obj, "", "subnet") };
}

export function parseSubnetsAnnotation(value: string): NicSubnets[] {
  const r = new AnnotationReader(ANNO_SUBNETS, value, '[{"interface":"eth0","ipv4":["subnet-a"]},{"interface":"net1","ipv4":["subnet-b"]}]');
  const list = r.list(r.json(), "the value");
  if (list.length === 0) r.fail(`the list is empty; expected e.g. ${r.example}`);
  const entries = list.map((e, i) => r.object(e, `entry ${i}`, ["interface", "ipv4", "ipv6"]));
  const names = interfaces(r, entries);
  return entries.map((e, i) => ({ interface: names[i] as string, ...families(r, e, `entry ${i} `, "subnet") }));
}

export function formatSubnetAnnotation(s: NicSubnets): string {
  return JSON.stringify(withLists({ interface: s.interface }, s));
}

export function formatSubnetsAnnotation(list: readonly NicSubnets[]): string {
  return JSON.stringify(list.map((s) => withLists({ interface: s.interface }, s)));
}

/** `ipam.spidernet.io/default-ipv4-ippool` / `default-ipv6-ippool` on a Namespace. */
export function parseNamespaceDefaultPools(family: 4 | 6, value: string): string[] {
  const key = family === 4 ? ANNO_NS_DEFAULT_IPV4_IPPOOL : ANNO_NS_DEFAULT_IPV6_IPPOOL;
  const r = new AnnotationReader(key, value, '["pool-a","pool-b"]');
  return r.names(r.list(r.json(), "the value"), "the value", "pool");
}

export function formatNamespaceDefaultPools(names: readonly string[]): string {
  return JSON.stringify(names);
}
