/**
 * What the admission fuzzing (test/integration/fuzz-admission.test.ts) found: each of these
 * reviews made a webhook throw a TypeError, answered as HTTP 500. Now each is refused and
 * the answer names the field.
 */
import { describe, expect, it } from "@jest/globals";
import { ippoolRules, kindHandlers, multusConfigRules, reservedIPRules, subnetRules } from "../../../webhook/admission/kinds.js";
import { parseReview, type AdmissionRequest } from "../../../webhook/admission/review.js";

const envelope = (request: Record<string, unknown>) => ({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid: "u1", kind: { group: "", version: "v1", kind: "Pod" }, resource: { group: "", version: "v1", resource: "pods" }, userInfo: {}, ...request } });
const context = () => ({ pools: [], subnets: [], held: () => [] }) as never;

describe("reviews the fuzzing found", () => {
  it.each([
    ["a Pod without metadata (CONNECT)", { operation: "CONNECT", object: { apiVersion: "v1", kind: "Pod", spec: {} } }, "request.object must be a Kubernetes object with metadata"],
    ["an UPDATE whose object is a number", { operation: "UPDATE", object: 0.5, oldObject: { metadata: {} } }, "request.object must be a Kubernetes object with metadata"],
    ["a CREATE without an object", { operation: "CREATE" }, "request.object is required for CREATE"],
    ["an old object that is a list", { operation: "UPDATE", object: { metadata: {} }, oldObject: [] }, "request.oldObject must be a Kubernetes object with metadata"],
    // validate-application read request.resource.group of a review without one (CI, seed 2139003210).
    ["a request without a resource", { operation: "CREATE", object: { metadata: {} }, resource: undefined }, "request.resource must name the group, version and resource"],
    ["a resource that is a number", { operation: "CREATE", object: { metadata: {} }, resource: 0.5 }, "request.resource must name the group, version and resource"],
    ["a resource without its group", { operation: "CREATE", object: { metadata: {} }, resource: { version: "v1", resource: "pods" } }, "request.resource must name the group, version and resource"],
    ["an operation the apiserver never sends", { operation: "", object: null }, "request.operation must be CREATE, UPDATE, DELETE or CONNECT"],
    ["a namespace that is a number", { operation: "DELETE", namespace: 0.5 }, "request.namespace must be a string"],
    ["a name that is a list", { operation: "DELETE", name: [] }, "request.name must be a string"],
    ["a subresource that is an object", { operation: "DELETE", subResource: {} }, "request.subResource must be a string"],
    ["a dry run that is a string", { operation: "DELETE", dryRun: "yes" }, "request.dryRun must be true or false"],
  ])("%s is a bad review naming the field", (_what, request, message) => {
    expect(() => parseReview(envelope(request))).toThrow(message);
  });

  const req = (object: unknown, operation = "CREATE"): AdmissionRequest => ({ uid: "u1", kind: { group: "spiderpool.spidernet.io", version: "v2beta1", kind: "K" }, resource: { group: "", version: "", resource: "" }, operation: operation as "CREATE", userInfo: {}, object });

  it.each([
    ["mutate", reservedIPRules, { metadata: { name: "r" } }, "SpiderReservedIP r: spec is required"],
    ["validate", reservedIPRules, { metadata: { name: "r" } }, "SpiderReservedIP r: spec is required"],
    ["validate", ippoolRules, { metadata: { name: "p" }, spec: { subnet: "10.0.0.0/24", routes: {} } }, "SpiderIPPool p: spec.routes must be a list (got an object)"],
    ["validate", subnetRules, { metadata: { name: "s" }, spec: { subnet: "10.0.0.0/24", routes: "x" } }, "SpiderSubnet s: spec.routes must be a list (got a string)"],
    ["validate", multusConfigRules, { metadata: { name: "m" }, spec: { cniType: "ovs", ovs: { bridge: "br0", trunk: {} } } }, "SpiderMultusConfig m: spec.ovs.trunk must be a list (got an object)"],
  ] as const)("%s refuses a malformed object naming the field (case %#)", async (verb, rules, object, message) => {
    const h = kindHandlers(rules as never, context);
    const answer = await h[verb](req(object));
    expect(answer.response).toMatchObject({ allowed: false, status: { message } });
  });

  it.each([
    ["a null spec", { metadata: { name: "s" }, spec: null }],
    ["no spec", { metadata: { name: "s" } }],
    ["a spec of the wrong type", { metadata: { name: "s" }, spec: "x" }],
  ] as const)("judges an UPDATE whose old object has %s without throwing", async (_what, oldObject) => {
    const h = kindHandlers(subnetRules as never, context);
    const answer = await h.validate({ ...req({ metadata: { name: "s" }, spec: { subnet: "10.0.0.0/24", ips: ["10.0.0.10"] } }, "UPDATE"), oldObject });
    expect(answer.response?.uid).toBe("u1");
    expect(answer.response?.allowed).toBe(true);
  });
});
