import type { ObjectMeta } from "./meta.js";

/**
 * The one Pod type of the project: the slice of core/v1 Pod that admission, binding,
 * reclamation and the agent read. Adapters pass real Pods (client-node's V1Pod or the JSON
 * of an AdmissionReview) in; the fields match both.
 */
export interface PodLike {
  metadata: ObjectMeta & { generateName?: string; deletionGracePeriodSeconds?: number };
  spec?: PodSpecSlice;
  /** `reason` is Evicted for a Pod the kubelet evicted. */
  status?: { phase?: string; reason?: string };
}

export interface PodSpecSlice {
  nodeName?: string;
  hostNetwork?: boolean;
  affinity?: Affinity;
  terminationGracePeriodSeconds?: number;
}

/** The JSON shapes of core/v1 NodeAffinity that placement reads and writes (a subset). */
export interface NodeSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt";
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

export interface Affinity {
  nodeAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: NodeSelectorTerm[] };
    preferredDuringSchedulingIgnoredDuringExecution?: unknown[];
  };
  podAffinity?: unknown;
  podAntiAffinity?: unknown;
}

/** `namespace/name`, the key caches and queues use. */
export function podKey(pod: Pick<PodLike, "metadata">): string {
  return `${pod.metadata.namespace ?? ""}/${pod.metadata.name ?? ""}`;
}

/** Succeeded or Failed (evicted Pods included): its containers will not run again. */
export function isFinished(pod: Pick<PodLike, "status">): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

/** A Node as reclamation reads it: whether it exists and whether it is Ready. */
export interface NodeLike {
  metadata?: { name?: string };
  status?: { conditions?: { type: string; status: string }[] };
}

/** Ready=True; a Node without the condition (just registered) counts as not ready. */
export function isNodeReady(node: NodeLike): boolean {
  return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}
