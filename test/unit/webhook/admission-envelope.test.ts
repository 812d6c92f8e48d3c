import { describe, expect, it } from "@jest/globals";
import { diff, pointerSegment } from "../../../webhook/admission/json-patch.js";
import { allow, deny, parseReview } from "../../../webhook/admission/review.js";
import podCreate from "./fixtures/pool-create-review.json" with { type: "json" };

describe("AdmissionReview envelope", () => {
  it("reads a real request and answers with its uid", () => {
    const req = parseReview(podCreate);
    expect(req.uid).toBe("b0a4b7d2-6b8c-4f1e-9a51-3c1a0e2f7d10");
    const answer = allow(req);
    expect(answer).toEqual({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: req.uid, allowed: true } });
  });

  it("sends a patch base64-encoded with its patchType, and warnings", () => {
    const answer = allow({ uid: "u" }, [{ op: "add", path: "/spec/ipVersion", value: 4 }], ["careful"]);
    expect(answer.response?.patchType).toBe("JSONPatch");
    expect(JSON.parse(Buffer.from(answer.response?.patch ?? "", "base64").toString())).toEqual([{ op: "add", path: "/spec/ipVersion", value: 4 }]);
    expect(answer.response?.warnings).toEqual(["careful"]);
  });

  it("refuses with a status the apiserver shows to the user", () => {
    expect(deny({ uid: "u" }, "spec.subnet is bad").response).toEqual({ uid: "u", allowed: false, status: { code: 422, message: "spec.subnet is bad", reason: "Invalid" } });
  });

  it.each([
    [null, "the body is not a JSON object"],
    [{ apiVersion: "admission.k8s.io/v1beta1", kind: "AdmissionReview" }, "expected an admission.k8s.io/v1 AdmissionReview"],
    [{ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { operation: "CREATE" } }, "no request with a uid"],
  ])("rejects a malformed envelope %#", (body, message) => {
    expect(() => parseReview(body)).toThrow(message);
  });
  // Shapes the apiserver never sends, seen as TypeErrors (500) in the admission fuzz test's log.
  it.each([
    [{ ownerReferences: {} }, "metadata.ownerReferences must be a list of objects"],
    [{ ownerReferences: [null] }, "metadata.ownerReferences must be a list of objects"],
    [{ annotations: { a: ["b"] } }, "metadata.annotations must map names to strings"],
    [{ labels: [] }, "metadata.labels must map names to strings"],
  ])("rejects an object whose metadata is not of Kubernetes' shape %#", (metadata, message) => {
    const review = structuredClone(podCreate) as { request: { object: { metadata: Record<string, unknown> } } };
    Object.assign(review.request.object.metadata, metadata);
    expect(() => parseReview(review)).toThrow(message);
  });
});

describe("JSON patch diff", () => {
  it("adds, replaces and removes keys, escaping ~ and / in paths", () => {
    const before = { metadata: { labels: { "a/b": "1", "c~d": "2" } }, spec: { ips: ["x"], gone: 1 } };
    const after = { metadata: { labels: { "a/b": "1", "c~d": "3" }, finalizers: ["f"] }, spec: { ips: ["y", "z"] } };
    expect(diff(before, after)).toEqual([
      { op: "replace", path: "/metadata/labels/c~0d", value: "3" },
      { op: "add", path: "/metadata/finalizers", value: ["f"] },
      { op: "remove", path: "/spec/gone" },
      { op: "replace", path: "/spec/ips", value: ["y", "z"] },
    ]);
    expect(pointerSegment("a/b~c")).toBe("a~1b~0c");
  });

  it("is empty for equal objects", () => {
    expect(diff({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toEqual([]);
  });
});
