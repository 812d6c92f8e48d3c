import type { PodLike, PodSpecSlice } from "../ipam/kinds/pod.js";

/**
 * What the controller's caches keep of the objects the apiserver sends. An informer holds
 * every object of its kind for the life of the process, so what it keeps is the memory per
 * object; a cached Pod is read only for the fields of `PodLike` (docs/performance.md lists
 * the readers), so the rest of its spec and status is dropped as it arrives.
 */

/** Written by kubectl apply, often the size of the whole object, read by nothing here. */
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

interface Meta {
  managedFields?: unknown;
  annotations?: Record<string, string>;
}

/**
 * The metadata without managedFields (server-side apply's field owners): an update that
 * omits them keeps the stored ones, so an object written back from the cache loses nothing.
 */
function withoutManagedFields<M extends Meta>(metadata: M): M {
  if (metadata.managedFields === undefined) return metadata;
  const { managedFields: _dropped, ...rest } = metadata;
  return rest as M;
}

/** A Pod's metadata as cached: also without kubectl's last-applied copy (the controller never writes a Pod from its cache). */
export function trimPodMetadata<M extends Meta>(metadata: M): M {
  const rest = withoutManagedFields(metadata);
  if (rest.annotations?.[LAST_APPLIED] === undefined) return rest;
  const { [LAST_APPLIED]: _copy, ...annotations } = rest.annotations;
  return { ...rest, annotations };
}

/**
 * Any other object with managedFields dropped and nothing else: pools, subnets and endpoints
 * are written back from the cache, and workloads' templates are read by admission.
 */
export function trimObject<T extends object>(obj: T): T {
  const meta = (obj as { metadata?: Meta }).metadata;
  return meta?.managedFields !== undefined ? ({ ...obj, metadata: withoutManagedFields(meta) }) : obj;
}

/** The spec fields a cached Pod is read for: its node, host networking, placement and grace period. */
function trimSpec(spec: PodSpecSlice | undefined): PodSpecSlice | undefined {
  if (!spec) return undefined;
  const { nodeName, hostNetwork, affinity, terminationGracePeriodSeconds } = spec;
  return defined({ nodeName, hostNetwork, affinity, terminationGracePeriodSeconds });
}

/** Without the keys whose value is undefined: a cached object has only what the apiserver sent. */
function defined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

/**
 * A Pod as the controller caches it: metadata (trimmed), the `PodSpecSlice` fields, and the
 * phase and reason of its status (finished, evicted). Containers, volumes, conditions and
 * container statuses, which make up most of a Pod's bytes, are not kept.
 */
export function trimPod(pod: PodLike): PodLike {
  const out: PodLike = { metadata: trimPodMetadata(pod.metadata ?? {}) };
  const spec = trimSpec(pod.spec);
  if (spec) out.spec = spec;
  if (pod.status) out.status = defined({ phase: pod.status.phase, reason: pod.status.reason });
  return out;
}
