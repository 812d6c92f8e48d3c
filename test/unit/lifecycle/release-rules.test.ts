import { describe, expect, it } from "@jest/globals";
import { DEFAULT_GC_SETTINGS, type GcSettings } from "../../../ipam/kinds/cluster-config.js";
import type { PodLike } from "../../../ipam/kinds/pod.js";
import { releaseVerdict, type NodeState } from "../../../ipam/lifecycle/release-rules.js";

const NOW = Date.parse("2026-01-01T00:00:10Z");
const pod = (over: Partial<PodLike["metadata"]> = {}, status?: PodLike["status"]): PodLike => ({ metadata: { name: "p", namespace: "ns", uid: "u1", ...over }, ...(status ? { status } : {}) });
const judge = (p: PodLike | undefined, node: NodeState = "ready", gc: Partial<GcSettings> = {}) => releaseVerdict(p, "u1", node, { ...DEFAULT_GC_SETTINGS, ...gc }, NOW);

describe("releaseVerdict (api.md, Reclamation)", () => {
  it.each([
    ["no Pod", undefined, "ready", { release: "pod-deleted" }],
    ["a Pod of that name with another uid (re-created)", pod({ uid: "u2" }), "ready", { release: "pod-deleted" }],
    ["Succeeded", pod({}, { phase: "Succeeded" }), "ready", { release: "pod-succeeded" }],
    ["Failed", pod({}, { phase: "Failed" }), "ready", { release: "pod-failed" }],
    ["evicted", pod({}, { phase: "Failed", reason: "Evicted" }), "ready", { release: "pod-evicted" }],
    ["on a deleted node", pod(), "deleted", { release: "node-deleted" }],
    ["running", pod(), "ready", { keep: true }],
    ["running on a NotReady node", pod(), "not-ready", { keep: true }],
  ] as const)("%s", (_what, p, node, expected) => {
    expect(judge(p, node)).toEqual(expected);
  });

  it("keeps a terminating Pod until its deletionTimestamp plus the delay, then releases it by its node's state", () => {
    const terminating = pod({ deletionTimestamp: "2026-01-01T00:00:08Z" });
    expect(judge(terminating, "ready", { additionalGraceDelayMs: 5000 })).toEqual({ keep: true, recheckAt: Date.parse("2026-01-01T00:00:13Z") });
    expect(judge(terminating, "ready")).toEqual({ release: "pod-terminating-ready-node" });
    expect(judge(terminating, "not-ready")).toEqual({ release: "pod-terminating-notready-node" });
    expect(judge(terminating, "unscheduled")).toEqual({ release: "pod-terminating-ready-node" });
  });

  it("honours the switches for terminating Pods on Ready and on NotReady nodes separately", () => {
    const terminating = pod({ deletionTimestamp: "2026-01-01T00:00:00Z" });
    expect(judge(terminating, "ready", { terminatingOnReadyNode: false })).toEqual({ keep: true });
    expect(judge(terminating, "not-ready", { terminatingOnReadyNode: false })).toEqual({ release: "pod-terminating-notready-node" });
    expect(judge(terminating, "not-ready", { terminatingOnNotReadyNode: false })).toEqual({ keep: true });
    expect(judge(terminating, "ready", { terminatingOnNotReadyNode: false })).toEqual({ release: "pod-terminating-ready-node" });
  });

  it("a finished or deleted Pod goes whatever the terminating switches say", () => {
    const off = { terminatingOnReadyNode: false, terminatingOnNotReadyNode: false };
    expect(judge(pod({ deletionTimestamp: "2026-01-01T00:00:00Z" }, { phase: "Succeeded" }), "ready", off)).toEqual({ release: "pod-succeeded" });
    expect(judge(undefined, "ready", off)).toEqual({ release: "pod-deleted" });
  });
});
