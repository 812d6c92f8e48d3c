import type { GcSettings } from "../kinds/cluster-config.js";
import type { PodLike } from "../kinds/pod.js";

/** Why addresses are released; the label of spiderpool_ip_gc_counts_total and the Event's words. */
export type ReleaseReason =
  | "pod-deleted"
  | "pod-succeeded"
  | "pod-failed"
  | "pod-evicted"
  | "pod-terminating-ready-node"
  | "pod-terminating-notready-node"
  | "node-deleted";

/** The node a Pod is bound to, as reclamation sees it. */
export type NodeState = "ready" | "not-ready" | "deleted" | "unscheduled";

export type Verdict =
  | { readonly release: ReleaseReason }
  /** Keep for now; `recheckAt` (ms) when the answer changes with time alone. */
  | { readonly keep: true; readonly recheckAt?: number };

const KEEP: Verdict = { keep: true };

/** What a finished Pod's phase says: Succeeded, Failed, or Failed because the kubelet evicted it. */
function finished(pod: PodLike): ReleaseReason | undefined {
  if (pod.status?.phase === "Succeeded") return "pod-succeeded";
  if (pod.status?.phase === "Failed") return pod.status.reason === "Evicted" ? "pod-evicted" : "pod-failed";
  return undefined;
}

/**
 * Whether the addresses recorded for the Pod of uid `owner` are released now, by the rules
 * of api.md (Reclamation). `pod` is the object of that name as read (undefined when there is
 * none); it is the owner only when its uid matches. A terminating Pod is judged against its
 * deletionTimestamp, which the apiserver sets to the end of its grace period, plus the
 * configured delay, and only when the switch for its node's state is on.
 */
export function releaseVerdict(pod: PodLike | undefined, owner: string, node: NodeState, gc: GcSettings, now: number): Verdict {
  if (!pod || pod.metadata.uid !== owner) return { release: "pod-deleted" };
  const done = finished(pod);
  if (done) return { release: done };
  if (node === "deleted") return { release: "node-deleted" };
  const deleting = pod.metadata.deletionTimestamp;
  if (deleting === undefined) return KEEP;
  const deadline = new Date(deleting).getTime() + gc.additionalGraceDelayMs;
  if (!Number.isFinite(deadline)) return KEEP;
  if (now < deadline) return { keep: true, recheckAt: deadline };
  const onReady = node !== "not-ready";
  if (onReady ? gc.terminatingOnReadyNode : gc.terminatingOnNotReadyNode) {
    return { release: onReady ? "pod-terminating-ready-node" : "pod-terminating-notready-node" };
  }
  return KEEP;
}
