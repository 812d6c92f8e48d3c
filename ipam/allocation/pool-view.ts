import { type CIDR, cidrContains, formatCIDR, parseCIDR } from "../address/cidr.js";
import { type Family, familyName, formatIP, parseIPOfFamily } from "../address/ip.js";
import { parseIPList } from "../address/iplist.js";
import { IPSet } from "../address/ipset.js";
import { IpamError } from "../errors.js";
import type { IPPoolSpec } from "../kinds/ippool.js";
import type { ObjectMeta } from "../kinds/meta.js";
import type { SpiderReservedIP } from "../kinds/reservedip.js";

/**
 * What allocation needs to know about a pool, derived once from its spec (and the cluster's
 * SpiderReservedIPs). `ips` empty means the pool has no addresses, as in Spiderpool: it is
 * never defaulted to the whole subnet.
 */
export interface PoolView {
  readonly name: string;
  readonly family: Family;
  readonly subnet: CIDR;
  readonly ips: IPSet;
  readonly excluded: IPSet;
  readonly gateway?: bigint;
  /** SpiderReservedIP addresses inside this subnet. */
  readonly reserved: IPSet;
  /** ips − excludeIPs − gateway − reserved: what may be handed to a Pod. */
  readonly allocatable: IPSet;
  /** |ips − excludeIPs| (the status counter), saturated at Number.MAX_SAFE_INTEGER. */
  readonly totalIPCount: number;
}

export type PoolSpecFields = Pick<IPPoolSpec, "ipVersion" | "subnet" | "ips" | "excludeIPs" | "gateway">;

/** Counts of huge IPv6 pools do not fit a JSON number; status shows them saturated. */
export function saturatingCount(n: bigint): number {
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

function poolError(name: string, code: "POOL_INVALID" | "FAMILY_MISMATCH", err: unknown): IpamError {
  const message = err instanceof Error ? err.message : String(err);
  const inner = err instanceof IpamError ? err.details : {};
  return new IpamError(code, `pool ${name}: ${message}`, { ...inner, pool: name });
}

/** Runs a parse of one spec field, prefixing any failure with the pool's name. */
function rethrow<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof IpamError && err.code === "FAMILY_MISMATCH") throw poolError(name, "FAMILY_MISMATCH", err);
    throw poolError(name, "POOL_INVALID", err);
  }
}

/** The family of a pool or subnet spec: `ipVersion`, else the family of `subnet`. */
export function specFamily(name: string, spec: PoolSpecFields): Family {
  const subnet = rethrow(name, () => parseCIDR(spec.subnet));
  if (spec.ipVersion !== undefined && spec.ipVersion !== subnet.family) {
    throw new IpamError(
      "FAMILY_MISMATCH",
      `pool ${name}: ipVersion is ${spec.ipVersion} but subnet ${spec.subnet} is ${familyName(subnet.family)}`,
      { pool: name, expected: spec.ipVersion },
    );
  }
  return subnet.family;
}

export function buildPoolView(
  object: { metadata: ObjectMeta; spec: PoolSpecFields },
  reserved: IPSet = IPSet.empty(specFamily(object.metadata.name ?? "", object.spec)),
): PoolView {
  const name = object.metadata.name ?? "";
  const spec = object.spec;
  const family = specFamily(name, spec);
  const subnet = rethrow(name, () => parseCIDR(spec.subnet));
  const ips = rethrow(name, () => parseIPList(spec.ips ?? [], family, "ips"));
  const excluded = rethrow(name, () => parseIPList(spec.excludeIPs ?? [], family, "excludeIPs"));
  const subnetSet = IPSet.fromCIDR(subnet);
  for (const [field, set] of [["ips", ips], ["excludeIPs", excluded]] as const) {
    const outside = set.difference(subnetSet);
    if (!outside.isEmpty) {
      throw new IpamError(
        "POOL_INVALID",
        `pool ${name}: ${field} ${outside.toStrings().slice(0, 3).join(", ")} lie outside subnet ${formatCIDR(subnet)}`,
        { pool: name, field },
      );
    }
  }
  let gateway: bigint | undefined;
  if (spec.gateway !== undefined && spec.gateway !== "") {
    gateway = rethrow(name, () => parseIPOfFamily(spec.gateway as string, family, "gateway").value);
    if (!cidrContains(subnet, gateway)) {
      throw new IpamError(
        "POOL_INVALID",
        `pool ${name}: gateway ${formatIP(family, gateway)} lies outside subnet ${formatCIDR(subnet)}`,
        { pool: name, field: "gateway" },
      );
    }
  }
  if (reserved.family !== family) {
    throw new IpamError("FAMILY_MISMATCH", `pool ${name}: reserved addresses of the wrong family`, { pool: name });
  }
  const inPool = ips.difference(excluded);
  const gatewaySet = gateway === undefined ? IPSet.empty(family) : IPSet.single(family, gateway);
  const reservedHere = reserved.intersection(subnetSet);
  return {
    name,
    family,
    subnet,
    ips,
    excluded,
    gateway,
    reserved: reservedHere,
    allocatable: inPool.difference(gatewaySet).difference(reservedHere),
    totalIPCount: saturatingCount(inPool.size()),
  };
}

/**
 * The union of the SpiderReservedIP addresses of one family. Objects of the other family are
 * skipped; an object whose `ips` cannot be parsed is an error (the validating webhook should
 * have refused it, and silently ignoring it would hand its addresses out).
 */
export function reservedAddresses(family: Family, objects: readonly SpiderReservedIP[]): IPSet {
  let set = IPSet.empty(family);
  for (const obj of objects) {
    const ips = obj.spec.ips ?? [];
    if (ips.length === 0) continue;
    const objFamily = obj.spec.ipVersion ?? (ips[0]?.includes(":") ? 6 : 4);
    if (objFamily !== family) continue;
    set = set.union(parseIPList(ips, family, `SpiderReservedIP ${obj.metadata.name ?? ""} ips`));
  }
  return set;
}
