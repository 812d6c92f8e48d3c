import type { NodeSelectorTerm, PodSpecSlice } from "../kinds/pod.js";

/** The one node `term` allows by name (`matchFields: metadata.name In [node]`), if it names exactly one. */
function nodeOfTerm(term: NodeSelectorTerm): string | undefined {
  const byName = (term.matchFields ?? []).filter((f) => f.key === "metadata.name");
  const only = byName.length === 1 ? byName[0] : undefined;
  return only?.operator === "In" && only.values?.length === 1 ? only.values[0] : undefined;
}

/**
 * The node a Pod is bound to before it is scheduled: `spec.nodeName`, else the single node
 * that every term of its required node affinity names in `matchFields` (how the DaemonSet
 * controller places its Pods). Such a Pod gets a pool serving that node and no added
 * affinity; any other Pod's node is unknown at admission.
 */
export function nodeNamedBy(spec: Pick<PodSpecSlice, "nodeName" | "affinity"> | undefined): string | undefined {
  if (spec?.nodeName) return spec.nodeName;
  const terms = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  const nodes = new Set(terms.map(nodeOfTerm));
  const [node] = [...nodes];
  return terms.length > 0 && nodes.size === 1 ? node : undefined;
}
