import type { Schema } from "./crd-common.js";
import type { Violation } from "./spec-rules.js";

/** "a list", "an object", "a string", … : what a value is, for a refusal. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Per schema type: what the value must be, and whether it is. */
const TYPES: Record<NonNullable<Schema["type"]>, { want: string; is: (v: unknown) => boolean }> = {
  object: { want: "an object", is: isRecord },
  array: { want: "a list", is: Array.isArray },
  string: { want: "a string", is: (v) => typeof v === "string" },
  integer: { want: "a whole number", is: Number.isInteger },
  boolean: { want: "true or false", is: (v) => typeof v === "boolean" },
};

/**
 * The JSON types of a value against a CRD schema (object, array, string, integer, boolean),
 * with the path of each mismatch. The apiserver checks the schema only after the mutating
 * webhooks, and a forged review never passes it: the rules, which trust the types, run only
 * on a spec that passed this.
 */
export function shapeViolations(value: unknown, schema: Schema, path: string): Violation[] {
  // null is no value of any type here (the CRDs declare nothing nullable).
  if (value === undefined || !schema.type) return [];
  const type = TYPES[schema.type];
  if (!type.is(value)) return [{ field: path, message: `${path} must be ${type.want} (got ${describe(value)})` }];
  if (isRecord(value)) return Object.entries(schema.properties ?? {}).flatMap(([key, sub]) => shapeViolations(value[key], sub, `${path}.${key}`));
  if (Array.isArray(value) && schema.items) {
    const items = schema.items;
    return value.flatMap((item, i) => shapeViolations(item, items, `${path}[${i}]`));
  }
  return [];
}
