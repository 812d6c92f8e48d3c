import { formatCIDR, parseCIDR } from "../address/cidr.js";
import { canonicalIPList } from "../address/iplist.js";
import { listSet, type PoolContext } from "./ippool-admission.js";
import { checkAddressSpec, conflictingNetwork, sameNetwork, sample, tryParse, type Violation } from "./spec-rules.js";
import type { SpiderSubnet } from "./subnet.js";

/** The mutating step: ipVersion from the CIDR, ips/excludeIPs in canonical form. */
export function defaultSubnet(subnet: SpiderSubnet): SpiderSubnet {
  const out: SpiderSubnet = structuredClone(subnet);
  const cidr = tryParse(() => parseCIDR(out.spec.subnet));
  if (!cidr) return out;
  if (out.spec.ipVersion === undefined) out.spec.ipVersion = cidr.family;
  if (out.spec.ipVersion !== cidr.family) return out;
  for (const field of ["ips", "excludeIPs"] as const) {
    const list = out.spec[field];
    const canonical = list && tryParse(() => canonicalIPList(list, cidr.family, field));
    if (canonical) out.spec[field] = canonical;
  }
  return out;
}

/**
 * The validating step. A subnet may not overlap another subnet, and every pool on its CIDR
 * must keep holding only addresses the subnet has; a pool on an overlapping but different
 * CIDR cannot be adopted and is a conflict too.
 */
export function validateSubnet(subnet: SpiderSubnet, old: SpiderSubnet | undefined, ctx: PoolContext): Violation[] {
  const out: Violation[] = [];
  const parsed = checkAddressSpec(subnet.spec, out);
  if (old && old.spec.subnet !== subnet.spec.subnet) {
    out.push({ field: "spec.subnet", message: `spec.subnet is immutable (was ${old.spec.subnet}, now ${subnet.spec.subnet}); create a new SpiderSubnet instead` });
  }
  if (!parsed) return out;
  const name = subnet.metadata.name ?? "";
  for (const other of ctx.subnets) {
    if (other.metadata.name === name) continue;
    const cidr = tryParse(() => parseCIDR(other.spec.subnet));
    if (cidr && (conflictingNetwork(parsed.subnet, cidr) || sameNetwork(parsed.subnet, cidr))) {
      out.push({
        field: "spec.subnet",
        message: `spec.subnet ${formatCIDR(parsed.subnet)} overlaps SpiderSubnet ${other.metadata.name} (${formatCIDR(cidr)}); subnets must not overlap`,
      });
    }
  }
  const usable = parsed.ips.difference(parsed.excluded);
  for (const pool of ctx.pools) {
    const cidr = tryParse(() => parseCIDR(pool.spec.subnet));
    if (!cidr || cidr.family !== parsed.family) continue;
    if (conflictingNetwork(parsed.subnet, cidr)) {
      out.push({
        field: "spec.subnet",
        message: `spec.subnet ${formatCIDR(parsed.subnet)} overlaps pool ${pool.metadata.name}'s subnet ${formatCIDR(cidr)}; a subnet's pools must use its exact CIDR`,
      });
    } else if (sameNetwork(parsed.subnet, cidr)) {
      const poolIPs = tryParse(() => listSet(pool.spec.ips, parsed.family));
      const outside = poolIPs?.difference(usable);
      if (outside && !outside.isEmpty) {
        out.push({
          field: "spec.ips",
          message: `spec.ips must keep ${sample(outside)}, which pool ${pool.metadata.name} holds; shrink the pool first or keep those addresses in the subnet`,
        });
      }
    }
  }
  return out;
}
