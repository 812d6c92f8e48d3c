import type { Family } from "../address/ip.js";
import type { SpiderIPPool } from "../kinds/ippool.js";
import { assertPoolAllowed, type FilterContext } from "../selection/filters.js";
import type { Candidate, NicCandidates } from "../selection/types.js";
import type { PodFacts, ReserveContext } from "./reserve.js";

/** What the filters know about the Pod and this NIC, as selection builds it. */
function filterContext(pod: PodFacts, ctx: Pick<ReserveContext, "namespaces" | "nodes" | "installNamespace">, nic: NicCandidates, family: Family): FilterContext {
  const namespaceLabels = ctx.namespaces.get(pod.namespace)?.metadata?.labels;
  const nodeLabels = pod.nodeName ? ctx.nodes.get(pod.nodeName)?.metadata?.labels : undefined;
  return {
    family,
    podNamespace: pod.namespace,
    podLabels: pod.labels,
    ...(namespaceLabels ? { namespaceLabels } : {}),
    ...(pod.nodeName ? { node: { name: pod.nodeName, ...(nodeLabels ? { labels: nodeLabels } : {}) } } : {}),
    interface: nic.interface,
    ...(nic.network ? { network: nic.network } : {}),
    installNamespace: ctx.installNamespace,
  };
}

/**
 * An application's automatic pool as a candidate for this NIC: it passes the same filters
 * as any pool (namespace, Pod labels, node, Multus network, disabled, terminating), or the
 * Pod is refused with the filter that stops it (POOL_NOT_ALLOWED). A node restriction of
 * the pool constrains the Pod's scheduling like any node-affine pool's.
 */
export function autoPoolCandidate(pool: SpiderIPPool, pod: PodFacts, ctx: Pick<ReserveContext, "namespaces" | "nodes" | "installNamespace">, nic: NicCandidates, family: Family): Candidate {
  const node = assertPoolAllowed(pool, filterContext(pod, ctx, nic, family));
  return { name: pool.metadata.name ?? "", ...(node ? { node } : {}) };
}
