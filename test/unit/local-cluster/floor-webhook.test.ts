import { describe, expect, it } from "@jest/globals";
import type { AssignedIPs } from "../../../ipam/annotations/assigned.js";
import type { PodLike } from "../../../ipam/kinds/pod.js";
import { endpointFor } from "../../../ipam/lifecycle/endpoints.js";
import { floorRecord } from "../../../local-cluster/floor-recorder.js";
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

describe("the design's floor: the endpoint it writes for a Pod (floor-recorder.ts)", () => {
  const annotations = (): Record<string, string> => {
    const patch = patchOf(answer(review("/webhooks/mutate-pod", { metadata: {} }))) as [{ value: Record<string, string> }];
    return patch[0].value;
  };
  const pod = (nodeName?: string): PodLike => ({
    metadata: { name: "web-1", namespace: "ns", uid: "u-9", labels: { "pod-template-hash": "6d4cf56db6" }, annotations: annotations(), ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-6d4cf56db6", uid: "rs-1", controller: true }] },
    ...(nodeName ? { spec: { nodeName } } : {}),
  });

  it("writes nothing for a Pod the scheduler has not placed, or one without the floor's annotation", () => {
    expect(floorRecord(pod())).toBeUndefined();
    expect(floorRecord({ ...pod("n1"), metadata: { ...pod("n1").metadata, annotations: {} } })).toBeUndefined();
  });

  it("writes what the binder writes for a placed Pod: owned by the Pod, its node, the annotation's addresses, the finalizer", () => {
    const ep = floorRecord(pod("n1"));
    expect(ep).toEqual(endpointFor(pod("n1"), JSON.parse(annotations()[ANNOTATION_KEY] ?? "") as AssignedIPs));
    expect(ep?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Pod", uid: "u-9" });
    expect(ep?.status?.current).toMatchObject({ uid: "u-9", node: "n1", ips: [expect.objectContaining({ interface: "eth0" })] });
    expect(ep?.status?.ownerControllerType).toBe("Deployment");
  });
});
