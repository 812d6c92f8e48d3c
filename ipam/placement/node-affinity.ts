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

/** `list` followed by those of `items` it does not hold yet. */
function withNew(list: readonly NodeSelectorRequirement[], items: readonly NodeSelectorRequirement[]): NodeSelectorRequirement[] {
  const out = [...list];
  for (const e of items) if (!out.some((x) => same(x, e))) out.push(e);
  return out;
}

/** The requirements of all constraints, each once. */
function allRequirements(constraints: readonly NodeConstraint[]): { expressions: NodeSelectorRequirement[]; fields: NodeSelectorRequirement[] } {
  let expressions: NodeSelectorRequirement[] = [];
  let fields: NodeSelectorRequirement[] = [];
  for (const c of constraints) {
    const r = requirements(c);
    expressions = withNew(expressions, r.expressions);
    fields = withNew(fields, r.fields);
  }
  return { expressions, fields };
}

/**
 * The Pod's affinity with the node constraints of its chosen pools added as required node
 * affinity. Terms of nodeSelectorTerms are ORed, so the constraints are ANDed into every
 * existing term (or form the only term): the scheduler then places the Pod only where
 * every chosen pool's subnet exists. Does not change `affinity`.
 */
export function constrainToNodes(affinity: Affinity | undefined, constraints: readonly NodeConstraint[]): Affinity | undefined {
  if (constraints.length === 0) return affinity;
  const { expressions, fields } = allRequirements(constraints);
  const out: Affinity = structuredClone(affinity ?? {});
  const nodeAffinity = (out.nodeAffinity ??= {});
  const required = (nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution ??= { nodeSelectorTerms: [] });
  if (required.nodeSelectorTerms.length === 0) required.nodeSelectorTerms.push({});
  for (const term of required.nodeSelectorTerms) {
    if (expressions.length > 0) term.matchExpressions = withNew(term.matchExpressions ?? [], expressions);
    if (fields.length > 0) term.matchFields = withNew(term.matchFields ?? [], fields);
  }
  return out;
}
