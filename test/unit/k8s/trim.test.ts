import { describe, expect, it } from "@jest/globals";
import { isDeepStrictEqual } from "node:util";
import type { PodLike } from "../../../ipam/kinds/pod.js";
import { DEFAULT_GC_SETTINGS } from "../../../ipam/kinds/cluster-config.js";
import { endpointFor, topController } from "../../../ipam/lifecycle/endpoints.js";
import { releaseVerdict } from "../../../ipam/lifecycle/release-rules.js";
import { trimObject, trimPod } from "../../../k8s/trim.js";

/** A Pod as the apiserver sends it for a Deployment's replica on a kwok node, with what kubectl apply and SSA add. */
function fullPod(phase: string, extra: Record<string, unknown> = {}): PodLike {
  return {
    metadata: {
      name: "web-6d4cf56db6-abcde",
      generateName: "web-6d4cf56db6-",
      namespace: "shop",
      uid: "1b0c2a4e-0000-4000-8000-000000000001",
      resourceVersion: "4242",
      labels: { app: "web", "pod-template-hash": "6d4cf56db6" },
      annotations: {
        "ipam.spidernet.io/assigned-ips": '[{"interface":"eth0","ipv4":"10.6.0.5/24","ipv4Pool":"p4","reservation":"r1"}]',
        "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify({ spec: { containers: [{ name: "c", image: "x".repeat(2000) }] } }),
      },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-6d4cf56db6", uid: "rs-uid", controller: true }],
      deletionTimestamp: "2026-11-30T07:00:00Z",
      deletionGracePeriodSeconds: 30,
      creationTimestamp: "2026-11-30T06:00:00Z",
      managedFields: Array.from({ length: 4 }, (_, i) => ({ manager: `m${i}`, operation: "Update", fieldsV1: { "f:metadata": { "f:labels": { "f:app": {} } }, "f:spec": { "f:containers": { 'k:{"name":"c"}': {} } } } })),
      ...extra,
    } as PodLike["metadata"],
    spec: {
      nodeName: "kwok-1",
      terminationGracePeriodSeconds: 30,
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "rack", operator: "In", values: ["r1"] }] }] } } },
      containers: [{ name: "c", image: "registry.example/web:1", env: Array.from({ length: 20 }, (_, i) => ({ name: `E${i}`, value: "v".repeat(40) })) }],
      volumes: [{ name: "token", projected: { sources: [{ serviceAccountToken: { path: "token" } }] } }],
      tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }],
    } as PodLike["spec"],
    status: {
      phase,
      reason: phase === "Failed" ? "Evicted" : undefined,
      conditions: [{ type: "Ready", status: "True" }],
      containerStatuses: [{ name: "c", ready: true, restartCount: 0, image: "registry.example/web:1", imageID: "sha256:" + "0".repeat(64) }],
      podIP: "10.6.0.5",
    } as PodLike["status"],
  };
}

describe("what the controller's Pod cache keeps (trimPod)", () => {
  it("keeps every field the controller reads from a cached Pod, exactly", () => {
    const pod = fullPod("Running");
    const t = trimPod(pod);
    const { managedFields: _m, ...meta } = pod.metadata as PodLike["metadata"] & { managedFields?: unknown };
    const { "kubectl.kubernetes.io/last-applied-configuration": _l, ...annotations } = meta.annotations ?? {};
    expect(t.metadata).toEqual({ ...meta, annotations });
    expect(t.spec).toEqual({ nodeName: "kwok-1", terminationGracePeriodSeconds: 30, affinity: pod.spec?.affinity });
    expect(t.status).toEqual({ phase: "Running" });
  });

  it("gives the readers the same answers as the full Pod: release rules, the endpoint, its top controller", () => {
    for (const phase of ["Pending", "Running", "Succeeded", "Failed"]) {
      const pod = fullPod(phase);
      const t = trimPod(pod);
      for (const node of ["ready", "not-ready", "deleted"] as const) {
        for (const now of [Date.parse("2026-11-30T06:30:00Z"), Date.parse("2026-11-30T08:00:00Z")]) {
          expect(releaseVerdict(t, pod.metadata.uid ?? "", node, DEFAULT_GC_SETTINGS, now)).toEqual(releaseVerdict(pod, pod.metadata.uid ?? "", node, DEFAULT_GC_SETTINGS, now));
        }
      }
      expect(topController(t)).toEqual(topController(pod));
      const assigned = [{ interface: "eth0", ipv4: "10.6.0.5/24", ipv4Pool: "p4", reservation: "r1" }] as never;
      expect(isDeepStrictEqual(endpointFor(t, assigned), endpointFor(pod, assigned))).toBe(true);
    }
  });

  it("keeps a fraction of the Pod's bytes and leaves the object it was given untouched", () => {
    const pod = fullPod("Running");
    const before = JSON.stringify(pod);
    const t = trimPod(pod);
    expect(JSON.stringify(pod)).toBe(before);
    expect(JSON.stringify(t).length).toBeLessThan(before.length / 4);
  });

  it("passes a bookmark or a Pod without spec and status through", () => {
    expect(trimPod({ metadata: { resourceVersion: "7" } })).toEqual({ metadata: { resourceVersion: "7" } });
  });
});

describe("what the other caches keep (trimObject)", () => {
  it("drops managedFields only, so an object written back from the cache keeps its annotations", () => {
    const pool = { apiVersion: "spiderpool.spidernet.io/v2beta1", kind: "SpiderIPPool", metadata: { name: "p", annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}" }, managedFields: [{ manager: "kubectl" }] }, spec: { subnet: "10.0.0.0/24" } };
    const t = trimObject(pool);
    expect(t).toEqual({ ...pool, metadata: { name: "p", annotations: pool.metadata.annotations } });
    expect(pool.metadata.managedFields).toHaveLength(1);
  });

  it("returns an object without managedFields as it is", () => {
    const ns = { metadata: { name: "a" } };
    expect(trimObject(ns)).toBe(ns);
  });
});
