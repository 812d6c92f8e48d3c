import { formatCIDR, parseCIDR } from "../address/cidr.js";
import type { IPSet } from "../address/ipset.js";
import { listSet, neighbourCIDR, type PoolContext } from "./ippool-admission.js";
import type { SpiderIPPool } from "./ippool.js";
import { canonicalizeAddressLists, checkAddressSpec, conflictingNetwork, sameNetwork, sample, tryParse, type ParsedSpec, type Violation } from "./spec-rules.js";
import type { SpiderSubnet } from "./subnet.js";

/** The mutating step: ipVersion from the CIDR, ips/excludeIPs in canonical form. */
export function defaultSubnet(subnet: SpiderSubnet): SpiderSubnet {
  const out: SpiderSubnet = structuredClone(subnet);
  const cidr = tryParse(() => parseCIDR(out.spec.subnet));
  if (!cidr) return out;
  if (out.spec.ipVersion === undefined) out.spec.ipVersion = cidr.family;
  if (out.spec.ipVersion === cidr.family) canonicalizeAddressLists(out.spec, cidr.family);
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
    if (other.metadata.name !== name) checkOtherSubnet(parsed, other, out);
  }
  const usable = parsed.ips.difference(parsed.excluded);
  for (const pool of ctx.pools) checkPoolOnSubnet(parsed, usable, pool, out);
  return out;
}

/** Subnets must not overlap, nor be the same CIDR twice. */
function checkOtherSubnet(parsed: ParsedSpec, other: SpiderSubnet, out: Violation[]): void {
  const cidr = tryParse(() => parseCIDR(other.spec.subnet));
  if (cidr && (conflictingNetwork(parsed.subnet, cidr) || sameNetwork(parsed.subnet, cidr))) {
    out.push({
      field: "spec.subnet",
      message: `spec.subnet ${formatCIDR(parsed.subnet)} overlaps SpiderSubnet ${other.metadata.name} (${formatCIDR(cidr)}); subnets must not overlap`,
    });
  }
}

/** A pool overlapping the subnet must be on its exact CIDR, and keep only addresses the subnet has. */
function checkPoolOnSubnet(parsed: ParsedSpec, usable: IPSet, pool: SpiderIPPool, out: Violation[]): void {
  const cidr = neighbourCIDR(pool.spec.subnet, parsed.family);
  if (!cidr) return;
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
