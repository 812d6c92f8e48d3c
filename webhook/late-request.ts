import { checkNames, type Violation } from "../ipam/kinds/spec-rules.js";
import type { LateRequest } from "../ipam/lifecycle/late-allocation.js";

/**
 * What is wrong with a late-allocation body, in one sentence naming the field; undefined
 * when it is a LateRequest. Names are checked here, so the apiserver never answers 400 to a
 * read the controller makes for it (found by test/integration/fuzz-node.test.ts).
 */
export function lateRequestProblem(body: unknown): string | undefined {
  const r = (typeof body === "object" && body !== null && !Array.isArray(body) ? body : {}) as Record<keyof LateRequest, unknown>;
  const missing = (["namespace", "name", "uid", "node", "interface"] as const).filter((k) => typeof r[k] !== "string" || r[k] === "");
  if (missing.length > 0) return `late allocation needs namespace, name, uid, node and interface as strings; ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} missing or not a string`;
  const out: Violation[] = [];
  checkNames("namespace", [r.namespace as string], "namespace", out);
  const names: Violation[] = [];
  checkNames("name", [r.name as string], "node", names); // a Pod's name has a node name's syntax (DNS subdomain)
  out.push(...names.map((v) => ({ ...v, message: v.message.replace("node name", "Pod name") })));
  checkNames("node", [r.node as string], "node", out);
  return out.length > 0 ? out.map((v) => v.message.replace("[0]", "")).join("; ") : undefined;
}
