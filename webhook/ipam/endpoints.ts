import type { AssignedIPs } from "../../ipam/annotations/assigned.js";
import type { SpiderEndpoint } from "../../ipam/kinds/endpoint.js";
import { API_VERSION, type OwnerReference } from "../../ipam/kinds/meta.js";
import { ENDPOINT_FINALIZER } from "../../k8s/endpoint-release.js";


/** The Pod fields an endpoint is built from. */
export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
  nodeName?: string;
  labels?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

/**
 * The Pod's top controller as Spiderpool reports it: a ReplicaSet made by a Deployment is
 * reported as that Deployment (its name minus the pod-template-hash suffix).
 */
export function topController(pod: PodRef): { kind: string; name: string; ref?: OwnerReference } {
  const ref = pod.ownerReferences?.find((r) => r.controller);
  if (!ref) return { kind: "Pod", name: pod.name };
  const hash = pod.labels?.["pod-template-hash"];
  if (ref.kind === "ReplicaSet" && hash && ref.name.endsWith(`-${hash}`)) {
    return { kind: "Deployment", name: ref.name.slice(0, -(hash.length + 1)), ref };
  }
  return { kind: ref.kind, name: ref.name, ref };
}

/**
 * The SpiderEndpoint recording what a Pod holds. Owned by the Pod, except a StatefulSet's
 * Pod: its endpoint is owned by the StatefulSet and outlives the Pod, so the address sticks.
 */
export function endpointFor(pod: PodRef, assigned: AssignedIPs): SpiderEndpoint {
  const top = topController(pod);
  const owner: OwnerReference =
    top.kind === "StatefulSet" && top.ref
      ? { apiVersion: top.ref.apiVersion, kind: top.ref.kind, name: top.ref.name, uid: top.ref.uid, blockOwnerDeletion: false }
      : { apiVersion: "v1", kind: "Pod", name: pod.name, uid: pod.uid, blockOwnerDeletion: false };
  return {
    apiVersion: API_VERSION,
    kind: "SpiderEndpoint",
    metadata: { name: pod.name, namespace: pod.namespace, ownerReferences: [owner], finalizers: [ENDPOINT_FINALIZER] },
    status: {
      current: {
        uid: pod.uid,
        ...(pod.nodeName ? { node: pod.nodeName } : {}),
        ips: assigned.ips,
        reservation: assigned.reservation,
      },
      ownerControllerType: top.kind,
      ownerControllerName: top.name,
    },
  };
}
