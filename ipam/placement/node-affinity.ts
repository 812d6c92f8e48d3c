import { isDeepStrictEqual } from "node:util";
import type { Affinity, NodeSelectorRequirement } from "../kinds/pod.js";
import type { NodeConstraint } from "../selection/types.js";

function requirements(c: NodeConstraint): { expressions: NodeSelectorRequirement[]; fields: NodeSelectorRequirement[] } {
  if ("nodeName" in c) return { expressions: [], fields: [{ key: "metadata.name", operator: "In", values: [...c.nodeName] }] };
  const sel = c.nodeAffinity;
  const expressions: NodeSelectorRequirement[] = Object.entries(sel.matchLabels ?? {}).map(([key, v]) => ({ key, operator: "In", values: [v] }));
  for (const e of sel.matchExpressions ?? []) expressions.push({ key: e.key, operator: e.operator, ...(e.values ? { values: [...e.values] } : {}) });
  return { expressions, fields: [] };
}

const same = (a: NodeSelectorRequirement, b: NodeSelectorRequirement): boolean => isDeepStrictEqual(a, b);

/**
 * The Pod's affinity with the node constraints of its chosen pools added as required node
 * affinity. Terms of nodeSelectorTerms are ORed, so the constraints are ANDed into every
 * existing term (or form the only term): the scheduler then places the Pod only where
 * every chosen pool's subnet exists. Does not change `affinity`.
 */
export function constrainToNodes(affinity: Affinity | undefined, constraints: readonly NodeConstraint[]): Affinity | undefined {
  if (constraints.length === 0) return affinity;
  const expressions: NodeSelectorRequirement[] = [];
  const fields: NodeSelectorRequirement[] = [];
  for (const c of constraints) {
    const r = requirements(c);
    for (const e of r.expressions) if (!expressions.some((x) => same(x, e))) expressions.push(e);
    for (const f of r.fields) if (!fields.some((x) => same(x, f))) fields.push(f);
  }
  const out: Affinity = structuredClone(affinity ?? {});
  const nodeAffinity = (out.nodeAffinity ??= {});
  const required = (nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution ??= { nodeSelectorTerms: [] });
  if (required.nodeSelectorTerms.length === 0) required.nodeSelectorTerms.push({});
  for (const term of required.nodeSelectorTerms) {
    if (expressions.length > 0) term.matchExpressions = [...(term.matchExpressions ?? []), ...expressions.filter((e) => !(term.matchExpressions ?? []).some((x) => same(x, e)))];
    if (fields.length > 0) term.matchFields = [...(term.matchFields ?? []), ...fields.filter((f) => !(term.matchFields ?? []).some((x) => same(x, f)))];
  }
  return out;
}
