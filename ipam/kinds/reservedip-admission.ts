import { parseCIDR } from "../address/cidr.js";
import { parseIP } from "../address/ip.js";
import { canonicalIPList, parseIPList } from "../address/iplist.js";
import type { PoolContext } from "./ippool-admission.js";
import type { SpiderReservedIP } from "./reservedip.js";
import { sample, type Violation } from "./spec-rules.js";

function familyOfFirst(ips: readonly string[] | undefined): 4 | 6 | undefined {
  const first = ips?.[0]?.split("-")[0];
  if (first === undefined) return undefined;
  try {
    return parseIP(first).family;
  } catch {
    return undefined;
  }
}

/** The mutating step: ipVersion from the first entry, ips in canonical form. */
export function defaultReservedIP(obj: SpiderReservedIP): SpiderReservedIP {
  const out: SpiderReservedIP = structuredClone(obj);
  out.spec.ipVersion ??= familyOfFirst(out.spec.ips);
  const family = out.spec.ipVersion;
  if (family && out.spec.ips) {
    try {
      out.spec.ips = canonicalIPList(out.spec.ips, family, "spec.ips");
    } catch {
      // left for validation to refuse with its message
    }
  }
  return out;
}

export function validateReservedIP(obj: SpiderReservedIP, old: SpiderReservedIP | undefined): Violation[] {
  const out: Violation[] = [];
  const family = obj.spec.ipVersion;
  if (old?.spec.ipVersion !== undefined && old.spec.ipVersion !== family) {
    out.push({ field: "spec.ipVersion", message: `spec.ipVersion is immutable (was ${old.spec.ipVersion}, now ${String(family)})` });
  }
  const ips = obj.spec.ips ?? [];
  if (ips.length > 0 && family === undefined) {
    out.push({ field: "spec.ipVersion", message: "spec.ipVersion is missing and spec.ips[0] is not an address to tell the family from" });
  }
  if (family !== undefined) {
    try {
      parseIPList(ips, family, "spec.ips");
    } catch (err) {
      out.push({ field: "spec.ips", message: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}

/** Warnings (not refusals): reserved addresses that pods hold now keep them until released. */
export function reservedIPWarnings(obj: SpiderReservedIP, ctx: PoolContext): string[] {
  const family = obj.spec.ipVersion;
  if (!family || !obj.spec.ips?.length) return [];
  let reserved;
  try {
    reserved = parseIPList(obj.spec.ips, family);
  } catch {
    return [];
  }
  const warnings: string[] = [];
  for (const pool of ctx.pools) {
    try {
      const subnet = parseCIDR(pool.spec.subnet);
      if (subnet.family !== family) continue;
      const inUse = ctx.held(pool).intersection(reserved);
      if (!inUse.isEmpty) {
        warnings.push(`${sample(inUse)} of pool ${pool.metadata.name} ${inUse.size() === 1n ? "is" : "are"} in use; reserved from now on, but kept by ${inUse.size() === 1n ? "its pod" : "their pods"} until released`);
      }
    } catch {
      continue;
    }
  }
  return warnings;
}
