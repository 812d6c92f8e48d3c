import { describe, expect, it } from "@jest/globals";
import { ANNOTATION_KEY, floorAnswer } from "../../../local-cluster/floor-webhook.js";

const review = (path: string, object: unknown): { path: string; body: string } => ({ path, body: JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid: "u-1", object } }) });
const answer = (r: { path: string; body: string }) => JSON.parse(floorAnswer(r.path, r.body)) as { response: { uid: string; allowed: boolean; patchType?: string; patch?: string } };
const patchOf = (a: ReturnType<typeof answer>): unknown => JSON.parse(Buffer.from(a.response.patch ?? "", "base64").toString("utf8"));

describe("the floor webhook's answers (bench/scenario.bench.ts's floor)", () => {
  it("adds its annotation to a Pod without annotations as a whole map", () => {
    const a = answer(review("/webhooks/mutate-pod", { metadata: { generateName: "web-" } }));
    expect(a.response).toMatchObject({ uid: "u-1", allowed: true, patchType: "JSONPatch" });
    expect(patchOf(a)).toEqual([{ op: "add", path: "/metadata/annotations", value: { [ANNOTATION_KEY]: expect.any(String) } }]);
  });

  it("adds only its key to a Pod with annotations, escaping the slash, keeping the others", () => {
    const a = answer(review("/webhooks/mutate-pod", { metadata: { annotations: { keep: "me" } } }));
    expect(patchOf(a)).toEqual([{ op: "add", path: "/metadata/annotations/bench.spiderpool.local~1floor", value: expect.any(String) }]);
  });

  it("allows every other review without a patch, answering its uid", () => {
    const a = answer(review("/webhooks/validate-application", { metadata: {} }));
    expect(a.response).toEqual({ uid: "u-1", allowed: true });
  });
});
