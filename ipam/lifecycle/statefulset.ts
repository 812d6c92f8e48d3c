import { parseAddressInCIDR } from "../address/cidr.js";
import type { Family } from "../address/ip.js";
import { controllerOf, ordinalOf, wantsOrdinal, type Workload } from "../kinds/application.js";
import type { SpiderEndpoint } from "../kinds/endpoint.js";
import type { OwnerReference } from "../kinds/meta.js";
import type { Candidate } from "../selection/types.js";

/**
 * StatefulSet Pods keep their addresses across deletion and re-creation while the
 * StatefulSet wants their ordinal (api.md "StatefulSet"). The endpoint of such a Pod is owned
 * by the StatefulSet, not the Pod, and outlives it; when the Pod is created again, its
 * admission asks each pool for the address the endpoint records.
 */

/** An address a StatefulSet Pod held before, as its endpoint records it. */
export interface StickyAddress {
  interface: string;
  family: Family;
  pool: string;
  address: bigint;
  token: number;
}

/** The StatefulSet that owns an endpoint (its owner reference), when it sticks to one. */
/**
 * An endpoint a StatefulSet owns and that is not being deleted: its addresses may stick to the
 * ordinal after the Pod is gone (the binder asks keepsAddresses whether they do, the
 * consistency checker does not call them leaked).
 */
export function isStatefulSetEndpoint(ep: SpiderEndpoint): boolean {
  return statefulSetOwnerOf(ep) !== undefined && !ep.metadata.deletionTimestamp;
}

export function statefulSetOwnerOf(ep: SpiderEndpoint): OwnerReference | undefined {
  return ep.metadata.ownerReferences?.find((r) => r.kind === "StatefulSet");
}

/**
 * What a Pod being admitted held before: the addresses its endpoint records, if that
 * endpoint belongs to the very StatefulSet (same uid) that owns the Pod. A Pod of a
 * StatefulSet deleted and created again under the same name starts afresh.
 */
export function stickyAddresses(pod: { ownerReferences?: readonly OwnerReference[] }, ep: SpiderEndpoint | undefined): StickyAddress[] {
  const owner = controllerOf({ ownerReferences: pod.ownerReferences ? [...pod.ownerReferences] : [] });
  if (!ep || owner?.kind !== "StatefulSet" || statefulSetOwnerOf(ep)?.uid !== owner.uid) return [];
  const out: StickyAddress[] = [];
  for (const nic of ep.status?.current?.ips ?? []) {
    for (const [p, family] of [["ipv4", 4], ["ipv6", 6]] as const) {
      const text = nic[p];
      const pool = nic[`${p}Pool`];
      const token = nic[`${p}Token`];
      if (text && pool && token !== undefined) out.push({ interface: nic.interface, family, pool, address: parseAddressInCIDR(text).address.value, token });
    }
  }
  return out;
}

/**
 * The candidates with the pool the NIC held an address in moved first, and that address to
 * ask for; unchanged when that pool is no longer a candidate (the Pod's pool annotation
 * changed: it gets a new address, and binding releases the old one).
 */
export function stickyFirst(candidates: readonly Candidate[], sticky: readonly StickyAddress[], nic: string, family: Family): { candidates: readonly Candidate[]; keep?: StickyAddress } {
  const keep = sticky.find((s) => s.interface === nic && s.family === family);
  const at = keep ? candidates.findIndex((c) => c.name === keep.pool) : -1;
  if (!keep || at < 0) return { candidates };
  return { candidates: [candidates[at] as Candidate, ...candidates.filter((_, i) => i !== at)], keep };
}

/**
 * Whether a StatefulSet Pod's endpoint keeps its addresses now that its Pod is gone: the
 * feature is on, the endpoint is not being deleted, and the StatefulSet that owns it still
 * exists (same uid) and still wants its ordinal. A scale-down's removed ordinals, a deleted
 * StatefulSet, or the feature switched off: the addresses go.
 */
export function keepsAddresses(ep: SpiderEndpoint, sts: Workload | undefined, enabled: boolean): boolean {
  const owner = statefulSetOwnerOf(ep);
  if (!enabled || !owner || ep.metadata.deletionTimestamp) return false;
  if (!sts || sts.metadata.uid !== owner.uid || sts.metadata.deletionTimestamp) return false;
  const ordinal = ordinalOf(ep.metadata.name ?? "", owner.name);
  return ordinal !== undefined && wantsOrdinal(sts, ordinal);
}
