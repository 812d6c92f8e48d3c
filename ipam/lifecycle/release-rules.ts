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

/** Verdicts on a Pod's own state that no later state of the same uid can undo. */
const FINAL_FOR_THE_UID: ReadonlySet<ReleaseReason> = new Set(["pod-succeeded", "pod-failed", "pod-evicted", "pod-terminating-ready-node", "pod-terminating-notready-node"]);

/**
 * The reason a release judged on the owner's cached copy stands on without a live read, or
 * undefined when only a live read can tell. What the cache shows of the owner itself,
 * finished or terminating past its grace, is final for its uid (a phase does not come back
 * from Succeeded or Failed, a deletion is never undone and only comes sooner): a live read
 * could only find it more gone. A Pod deleted with no grace left and no finalizer is being
 * removed as the cache shows it (the kubelet's last delete, or a forced one): a live read
 * would find it gone, and it is released as deleted, not as stuck terminating.
 */
export function settledOnCache(pod: PodLike, verdict: ReleaseReason): ReleaseReason | undefined {
  const m = pod.metadata;
  if (m.deletionTimestamp && m.deletionGracePeriodSeconds === 0 && (m.finalizers ?? []).length === 0) return "pod-deleted";
  return FINAL_FOR_THE_UID.has(verdict) ? verdict : undefined;
}
