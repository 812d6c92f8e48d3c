import type { LabelSelector, LabelSelectorRequirement } from "../kinds/meta.js";

export type Labels = Readonly<Record<string, string>>;

/**
 * Whether an expression holds, by operator, given whether the label is set, its value and
 * the expression's values. In and NotIn without values hold for nothing.
 */
const OPERATORS = new Map<string, (has: boolean, value: string | undefined, values: readonly string[]) => boolean>([
  ["In", (has, value, values) => values.length > 0 && has && values.includes(value as string)],
  ["NotIn", (has, value, values) => values.length > 0 && !(has && values.includes(value as string))],
  ["Exists", (has) => has],
  ["DoesNotExist", (has) => !has],
]);

/** An unknown operator holds for nothing. */
function expressionHolds(e: LabelSelectorRequirement, labels: Labels): boolean {
  const holds = OPERATORS.get(e.operator);
  const has = Object.prototype.hasOwnProperty.call(labels, e.key);
  return holds !== undefined && holds(has, labels[e.key], e.values ?? []);
}

/**
 * Kubernetes label-selector semantics: every matchLabels pair and every expression must hold;
 * an empty selector matches everything. An expression with an unknown operator, or In/NotIn
 * without values, matches nothing: a broken selector must not widen who may use a pool.
 */
export function matchesSelector(selector: LabelSelector, labels: Labels | undefined): boolean {
  const l = labels ?? {};
  return (
    Object.entries(selector.matchLabels ?? {}).every(([k, v]) => l[k] === v) &&
    (selector.matchExpressions ?? []).every((e) => expressionHolds(e, l))
  );
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
