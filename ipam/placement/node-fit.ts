import type { PodTemplate, Toleration } from "../kinds/application.js";
import type { NodeSelectorRequirement, NodeSelectorTerm } from "../kinds/pod.js";

/** A Node as placement reads it. */
export interface NodeLike {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { taints?: readonly { key: string; value?: string; effect: string }[] };
}

/** core/v1 NodeSelectorRequirement semantics over one value (a label, or the node's name). */
function requirementHolds(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
    case "Lt": {
      const n = Number(value);
      const bound = Number(values[0]);
      if (value === undefined || !Number.isInteger(n) || !Number.isInteger(bound)) return false;
      return r.operator === "Gt" ? n > bound : n < bound;
    }
  }
}

/** A term holds when all its requirements do; an empty term matches no node (as in Kubernetes). */
function termHolds(term: NodeSelectorTerm, node: NodeLike): boolean {
  const labels = node.metadata?.labels ?? {};
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  return exprs.every((e) => requirementHolds(e, labels[e.key])) && fields.every((f) => requirementHolds(f, f.key === "metadata.name" ? node.metadata?.name : undefined));
}

function tolerates(tolerations: readonly Toleration[], taint: { key: string; value?: string; effect: string }): boolean {
  return tolerations.some(
    (t) =>
      (t.effect === undefined || t.effect === "" || t.effect === taint.effect) &&
      (t.operator === "Exists" ? t.key === undefined || t.key === "" || t.key === taint.key : t.key === taint.key && (t.value ?? "") === (taint.value ?? "")),
  );
}

/**
 * Whether the DaemonSet controller would run a Pod of `template` on `node`: its nodeSelector
 * and required node affinity hold, and it tolerates the node's NoSchedule and NoExecute
 * taints. (The controller's other checks, resources and host ports, are left out: a pool a
 * little larger than needed is the safe side.)
 */
export function templateFitsNode(template: PodTemplate | undefined, node: NodeLike): boolean {
  const spec = template?.spec;
  const labels = node.metadata?.labels ?? {};
  if (!Object.entries(spec?.nodeSelector ?? {}).every(([k, v]) => labels[k] === v)) return false;
  const terms = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms !== undefined && !terms.some((t) => termHolds(t, node))) return false;
  const blocking = (node.spec?.taints ?? []).filter((t) => t.effect === "NoSchedule" || t.effect === "NoExecute");
  return blocking.every((t) => tolerates(spec?.tolerations ?? [], t));
}
