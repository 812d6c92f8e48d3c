import { type CIDR, formatCIDR, parseCIDR } from "../address/cidr.js";
import { parseIPList } from "../address/iplist.js";
import { IPSet } from "../address/ipset.js";
import type { SpiderIPPool } from "./ippool.js";
import { API_VERSION } from "./meta.js";
import {
  canonicalizeAddressLists,
  checkAddressSpec,
  checkMultusNames,
  checkNames,
  checkSelector,
  conflictingNetwork,
  formatAddress,
  sameNetwork,
  sample,
  tryParse,
  type ParsedSpec,
  type Violation,
} from "./spec-rules.js";
import type { SpiderSubnet } from "./subnet.js";

/** Keeps a pool with addresses in use from disappearing until they are released. */
export const POOL_FINALIZER = "spiderpool.spidernet.io";

/** The other objects a pool is judged against. */
export interface PoolContext {
  pools: readonly SpiderIPPool[];
  subnets: readonly SpiderSubnet[];
  /**
   * The addresses a pool's allocation record holds (for the in-use rules). Allocation state
   * is the allocation layer's to read; the rules only ask.
   */
  held: (pool: SpiderIPPool) => IPSet;
}

/** The SpiderSubnet whose CIDR is exactly this pool's, if any. */
export function subnetOfPool(pool: SpiderIPPool, subnets: readonly SpiderSubnet[]): SpiderSubnet | undefined {
  const cidr = tryParse(() => parseCIDR(pool.spec.subnet));
  if (!cidr) return undefined;
  return subnets.find((s) => {
    const other = tryParse(() => parseCIDR(s.spec.subnet));
    return other !== undefined && sameNetwork(cidr, other) && !s.metadata.deletionTimestamp;
  });
}

/**
 * The mutating step: ipVersion from the subnet, ips/excludeIPs in canonical form, the
 * finalizer, and adoption by the SpiderSubnet on the same CIDR (owner reference; gateway,
 * routes and vlan inherited when unset). Anything unparsable is left for validation to refuse.
 */
export function defaultIPPool(pool: SpiderIPPool, ctx: Pick<PoolContext, "subnets">, creating: boolean): SpiderIPPool {
  const out: SpiderIPPool = structuredClone(pool);
  const spec = out.spec;
  const cidr = tryParse(() => parseCIDR(spec.subnet));
  if (cidr && spec.ipVersion === undefined) spec.ipVersion = cidr.family;
  if (cidr && spec.ipVersion === cidr.family) canonicalizeAddressLists(spec, cidr.family);
  if (creating && !out.metadata.deletionTimestamp) addFinalizer(out);
  const subnet = subnetOfPool(out, ctx.subnets);
  if (subnet) adoptBySubnet(out, subnet);
  return out;
}

function addFinalizer(pool: SpiderIPPool): void {
  const finalizers = pool.metadata.finalizers ?? [];
  if (!finalizers.includes(POOL_FINALIZER)) pool.metadata.finalizers = [...finalizers, POOL_FINALIZER];
}

/** The subnet becomes the pool's controller; the pool inherits gateway, routes and vlan it does not set. */
function adoptBySubnet(pool: SpiderIPPool, subnet: SpiderSubnet): void {
  const { uid, name } = subnet.metadata;
  if (!uid || !name) return;
  const refs = (pool.metadata.ownerReferences ?? []).filter((r) => r.kind !== "SpiderSubnet");
  pool.metadata.ownerReferences = [...refs, { apiVersion: API_VERSION, kind: "SpiderSubnet", name, uid, controller: true, blockOwnerDeletion: true }];
  const spec = pool.spec;
  if (spec.gateway === undefined && subnet.spec.gateway) spec.gateway = subnet.spec.gateway;
  if (spec.routes === undefined && subnet.spec.routes) spec.routes = structuredClone(subnet.spec.routes);
  if (spec.vlan === undefined && subnet.spec.vlan !== undefined) spec.vlan = subnet.spec.vlan;
}

/** Pools sharing a subnet must not share addresses; pools on overlapping subnets must not exist. */
function checkNeighbours(pool: SpiderIPPool, parsed: ParsedSpec, ctx: PoolContext, out: Violation[]): void {
  const name = pool.metadata.name ?? "";
  for (const other of ctx.pools) {
    if (other.metadata.name !== name) checkOtherPool(parsed, other, out);
  }
  for (const subnet of ctx.subnets) checkSubnetOfPool(parsed, subnet, out);
}

/** The CIDR of another object's spec when it parses and is of this family. */
export function neighbourCIDR(subnet: string, family: ParsedSpec["family"]): CIDR | undefined {
  const cidr = tryParse(() => parseCIDR(subnet));
  return cidr?.family === family ? cidr : undefined;
}

function checkOtherPool(parsed: ParsedSpec, other: SpiderIPPool, out: Violation[]): void {
  const cidr = neighbourCIDR(other.spec.subnet, parsed.family);
  if (!cidr) return;
  if (conflictingNetwork(parsed.subnet, cidr)) {
    out.push({
      field: "spec.subnet",
      message: `spec.subnet ${formatCIDR(parsed.subnet)} overlaps pool ${other.metadata.name}'s subnet ${formatCIDR(cidr)}; pools must use the very same subnet or ones that do not overlap`,
    });
  } else if (sameNetwork(parsed.subnet, cidr)) {
    const theirs = tryParse(() => listSet(other.spec.ips, parsed.family));
    const shared = theirs ? parsed.ips.intersection(theirs) : IPSet.empty(parsed.family);
    if (!shared.isEmpty) {
      out.push({
        field: "spec.ips",
        message: `spec.ips ${sample(shared)} are also in pool ${other.metadata.name} on the same subnet ${formatCIDR(cidr)}; pools sharing a subnet must not share addresses`,
      });
    }
  }
}

/** A pool overlapping a SpiderSubnet must be on its exact CIDR and hold only addresses the subnet has. */
function checkSubnetOfPool(parsed: ParsedSpec, subnet: SpiderSubnet, out: Violation[]): void {
  const cidr = neighbourCIDR(subnet.spec.subnet, parsed.family);
  if (!cidr) return;
  if (conflictingNetwork(parsed.subnet, cidr)) {
    out.push({
      field: "spec.subnet",
      message: `spec.subnet ${formatCIDR(parsed.subnet)} overlaps SpiderSubnet ${subnet.metadata.name} (${formatCIDR(cidr)}); a pool must use its subnet's exact CIDR`,
    });
  } else if (sameNetwork(parsed.subnet, cidr)) {
    const allowed = tryParse(() => listSet(subnet.spec.ips, parsed.family).difference(listSet(subnet.spec.excludeIPs, parsed.family)));
    const outside = allowed ? parsed.ips.difference(allowed) : IPSet.empty(parsed.family);
    if (!outside.isEmpty) {
      out.push({
        field: "spec.ips",
        message: `spec.ips ${sample(outside)} are not among SpiderSubnet ${subnet.metadata.name}'s ips; a pool may only hold addresses its subnet has`,
      });
    }
  }
}

/** An api list as a set, empty when absent; throws on a bad entry. */
export function listSet(list: readonly string[] | undefined, family: ParsedSpec["family"]): IPSet {
  return list && list.length > 0 ? parseIPList(list, family) : IPSet.empty(family);
}

/**
 * The validating step for CREATE and UPDATE (of a pool already through defaultIPPool).
 * Returns every violation; the webhook joins them into its refusal.
 */
export function validateIPPool(pool: SpiderIPPool, old: SpiderIPPool | undefined, ctx: PoolContext): Violation[] {
  const out: Violation[] = [];
  const spec = pool.spec;
  const parsed = checkAddressSpec(spec, out);
  checkSelector("spec.podAffinity", spec.podAffinity, true, out);
  checkSelector("spec.namespaceAffinity", spec.namespaceAffinity, false, out);
  checkSelector("spec.nodeAffinity", spec.nodeAffinity, false, out);
  checkNames("spec.namespaceName", spec.namespaceName, "namespace", out);
  checkNames("spec.nodeName", spec.nodeName, "node", out);
  checkMultusNames(spec.multusName, out);
  if (old) {
    if (old.spec.subnet !== spec.subnet) {
      out.push({ field: "spec.subnet", message: `spec.subnet is immutable (was ${old.spec.subnet}, now ${spec.subnet}); create a new pool instead` });
    }
    if (old.spec.ipVersion !== undefined && old.spec.ipVersion !== spec.ipVersion) {
      out.push({ field: "spec.ipVersion", message: `spec.ipVersion is immutable (was ${old.spec.ipVersion}, now ${String(spec.ipVersion)})` });
    }
  }
  if (!parsed) return out;
  checkNeighbours(pool, parsed, ctx, out);
  if (old && out.length === 0) checkInUse(pool, old, parsed, ctx, out);
  return out;
}

/** Addresses in use may not leave the pool, be excluded, or become its gateway. */
function checkInUse(pool: SpiderIPPool, old: SpiderIPPool, parsed: ParsedSpec, ctx: PoolContext, out: Violation[]): void {
  const held = ctx.held(old);
  if (held.isEmpty) return;
  const kept = parsed.ips.difference(parsed.excluded);
  const dropped = held.difference(kept);
  if (!dropped.isEmpty) {
    out.push({
      field: "spec.ips",
      message: `spec.ips or spec.excludeIPs would take ${sample(dropped)} out of pool ${pool.metadata.name}, but ${dropped.size() === 1n ? "it is" : "they are"} in use; release ${dropped.size() === 1n ? "it" : "them"} first (delete the pods holding them)`,
    });
  }
  if (parsed.gateway !== undefined && held.contains(parsed.gateway)) {
    out.push({
      field: "spec.gateway",
      message: `spec.gateway ${formatAddress(parsed.family, parsed.gateway)} is in use by a pod of pool ${pool.metadata.name}; choose another gateway or release that address first`,
    });
  }
}
