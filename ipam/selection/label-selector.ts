import type { LabelSelector } from "../kinds/meta.js";

export type Labels = Readonly<Record<string, string>>;

/**
 * Kubernetes label-selector semantics: every matchLabels pair and every expression must hold;
 * an empty selector matches everything. An expression with an unknown operator, or In/NotIn
 * without values, matches nothing: a broken selector must not widen who may use a pool.
 */
export function matchesSelector(selector: LabelSelector, labels: Labels | undefined): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (l[k] !== v) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case "In":
        if (values.length === 0 || !has || !values.includes(l[e.key] as string)) return false;
        break;
      case "NotIn":
        if (values.length === 0 || (has && values.includes(l[e.key] as string))) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Why a selector is malformed (for validation and messages), or undefined. */
export function selectorProblem(selector: LabelSelector): string | undefined {
  for (const [i, e] of (selector.matchExpressions ?? []).entries()) {
    const n = e.values?.length ?? 0;
    if (e.operator === "In" || e.operator === "NotIn") {
      if (n === 0) return `matchExpressions[${i}] (${e.key} ${e.operator}) needs at least one value`;
    } else if (e.operator === "Exists" || e.operator === "DoesNotExist") {
      if (n !== 0) return `matchExpressions[${i}] (${e.key} ${e.operator}) takes no values`;
    } else {
      return `matchExpressions[${i}] has unknown operator '${String(e.operator)}'`;
    }
  }
  return undefined;
}

/** A short text of a selector for messages, e.g. `zone=a, rack in (r1,r2)`. */
export function describeSelector(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const vals = `(${(e.values ?? []).join(",")})`;
    if (e.operator === "In") parts.push(`${e.key} in ${vals}`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin ${vals}`);
    else if (e.operator === "Exists") parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.length === 0 ? "(everything)" : parts.join(", ");
}
