import { isDeepStrictEqual } from "node:util";
import type { JsonPatchOp } from "./review.js";

/** RFC 6901 escaping of one path segment. */
export function pointerSegment(key: string | number): string {
  return String(key).replace(/~/g, "~0").replace(/\//g, "~1");
}

/** A JSON object: not null, not an array. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The JSON Patch that turns `before` into `after`. Objects are compared key by key;
 * arrays and scalars are replaced whole when they differ, which keeps the patch valid
 * whatever else changed the array meanwhile in the same admission chain.
 */
export function diff(before: unknown, after: unknown, path = ""): JsonPatchOp[] {
  if (isDeepStrictEqual(before, after)) return [];
  if (!isObject(before) || !isObject(after)) {
    return path === "" ? [{ op: "replace", path: "", value: after }] : [{ op: "replace", path, value: after }];
  }
  const ops: JsonPatchOp[] = [];
  for (const key of Object.keys(before)) {
    if (!(key in after) || after[key] === undefined) {
      if (before[key] !== undefined) ops.push({ op: "remove", path: `${path}/${pointerSegment(key)}` });
    }
  }
  for (const [key, value] of Object.entries(after)) {
    if (value === undefined) continue;
    const p = `${path}/${pointerSegment(key)}`;
    if (!(key in before) || before[key] === undefined) ops.push({ op: "add", path: p, value });
    else ops.push(...diff(before[key], value, p));
  }
  return ops;
}
