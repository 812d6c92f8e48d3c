import { parseAddressInCIDR } from "../address/cidr.js";
import { sameNics, type AssignedIPs } from "../annotations/assigned.js";
import type { EndpointIP, SpiderEndpoint } from "../kinds/endpoint.js";
import { API_VERSION, type OwnerReference } from "../kinds/meta.js";
import type { PodLike } from "../kinds/pod.js";
import { ConflictError, type Allocator, type EndpointStore, type Log } from "../ports.js";

/** Keeps a SpiderEndpoint until its addresses are released. */
export const ENDPOINT_FINALIZER = "spiderpool.spidernet.io/release-ips";

/** One address an endpoint or annotation records, with its pool and token. */
export interface RecordedAddress {
  pool: string;
  address: bigint;
  token: number;
  text: string;
}

/** Each address an endpoint or annotation records, with its pool and token. */
export function recordedAddresses(ips: readonly EndpointIP[]): RecordedAddress[] {
  const out: RecordedAddress[] = [];
  for (const nic of ips) {
    for (const p of ["ipv4", "ipv6"] as const) {
      const text = nic[p];
      const pool = nic[`${p}Pool`];
      const token = nic[`${p}Token`];
      if (text && pool && token !== undefined) out.push({ pool, address: parseAddressInCIDR(text).address.value, token, text });
    }
  }
  return out;
}

/** Releases exactly what the endpoint records (by token: a repeat is a no-op). Returns what was freed. */
export async function releaseRecordedAddresses(allocator: Allocator, ep: SpiderEndpoint): Promise<RecordedAddress[]> {
  const addrs = recordedAddresses(ep.status?.current?.ips ?? []);
  const results = await Promise.all(addrs.map((a) => allocator.submit(a.pool, { kind: "release", address: a.address, token: a.token })));
  return addrs.filter((_a, i) => {
    const r = results[i];
    return r?.ok === true && r.kind === "release" && r.outcome === "released";
  });
}

/** Releases exactly what the endpoint records (by token: a repeat is a no-op). Returns how many were freed. */
export async function releaseRecorded(allocator: Allocator, ep: SpiderEndpoint): Promise<number> {
  return (await releaseRecordedAddresses(allocator, ep)).length;
}

/**
 * Releases what the endpoint records, then removes its finalizer and the endpoint. An
 * endpoint whose record changed meanwhile throws; repeating the whole step is harmless
 * because releases are exact.
 */
export async function releaseEndpoint(allocator: Allocator, endpoints: EndpointStore, ep: SpiderEndpoint, reason: string, log: Log): Promise<number> {
  return (await releaseEndpointAddresses(allocator, endpoints, ep, { reason, log })).length;
}

/**
 * releaseEndpoint, returning what was freed. `onReleased` hears of the release before the
 * endpoint is written: a write that then fails (the record changed, the apiserver out of
 * reach) throws, and the repeat frees nothing more, so only this call can report what went.
 */
export async function releaseEndpointAddresses(
  allocator: Allocator,
  endpoints: EndpointStore,
  ep: SpiderEndpoint,
  release: { reason: string; log: Log; onReleased?: (released: RecordedAddress[]) => void },
): Promise<RecordedAddress[]> {
  const released = await releaseRecordedAddresses(allocator, ep);
  release.log.info({ endpoint: `${ep.metadata.namespace}/${ep.metadata.name}`, uid: ep.status?.current?.uid, reason: release.reason, released: released.map((a) => a.text) }, "addresses released");
  release.onReleased?.(released);
  const from = await withoutFinalizer(endpoints, ep);
  if (from && !from.read.metadata.deletionTimestamp) {
    await endpoints.delete(ep.metadata.name ?? "", ep.metadata.namespace, preconditionsOf(from.written));
  }
  return released;
}

/**
 * Removes the release finalizer, by compare-and-swap on what was judged: an endpoint whose
 * record changed since (re-bound to a Pod re-created under the same name) makes this throw
 * instead of removing the new record. A write lost to a change of anything else (the garbage
 * collector marking the endpoint of a Pod that is gone terminating, in the same moment) is
 * made again on a fresh read of the same record. Returns the copy written from and the
 * result, or undefined when the endpoint is gone already.
 */
async function withoutFinalizer(endpoints: EndpointStore, ep: SpiderEndpoint): Promise<{ read: SpiderEndpoint; written: SpiderEndpoint } | undefined> {
  const drop = (e: SpiderEndpoint): SpiderEndpoint => ({ ...e, metadata: { ...e.metadata, finalizers: (e.metadata.finalizers ?? []).filter((f) => f !== ENDPOINT_FINALIZER) } });
  try {
    return { read: ep, written: await endpoints.replace(drop(ep)) };
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    const fresh = await endpoints.get(ep.metadata.name ?? "", ep.metadata.namespace);
    if (!fresh) return undefined;
    if (!sameRecord(fresh, ep)) throw err;
    return { read: fresh, written: await endpoints.replace(drop(fresh)) };
  }
}

/** The same object recording the same Pod and addresses. */
function sameRecord(a: SpiderEndpoint, b: SpiderEndpoint): boolean {
  return a.metadata.uid === b.metadata.uid && a.status?.current?.uid === b.status?.current?.uid && sameNics(a.status?.current?.ips, b.status?.current?.ips);
}

/** The delete preconditions of an object as read: it must still be that very object, unchanged. */
export function preconditionsOf(obj: { metadata: { uid?: string; resourceVersion?: string } }): { uid?: string; resourceVersion?: string } {
  return { ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}), ...(obj.metadata.resourceVersion ? { resourceVersion: obj.metadata.resourceVersion } : {}) };
}

/**
 * The Pod's top controller as Spiderpool reports it: a ReplicaSet made by a Deployment is
 * reported as that Deployment (its name minus the pod-template-hash suffix).
 */
export function topController(pod: PodLike): { kind: string; name: string; ref?: OwnerReference } {
  const ref = pod.metadata.ownerReferences?.find((r) => r.controller);
  if (!ref) return { kind: "Pod", name: pod.metadata.name ?? "" };
  const hash = pod.metadata.labels?.["pod-template-hash"];
  if (ref.kind === "ReplicaSet" && hash && ref.name.endsWith(`-${hash}`)) {
    return { kind: "Deployment", name: ref.name.slice(0, -(hash.length + 1)), ref };
  }
  return { kind: ref.kind, name: ref.name, ref };
}

/**
 * The SpiderEndpoint recording what a Pod holds. Owned by the Pod, except a StatefulSet's
 * Pod while StatefulSet addresses stick (`sticky`, enableStatefulSet): its endpoint is owned
 * by the StatefulSet and outlives the Pod, so the address sticks.
 */
export function endpointFor(pod: PodLike, assigned: AssignedIPs, sticky = true): SpiderEndpoint {
  const top = topController(pod);
  const { name = "", namespace = "", uid = "" } = pod.metadata;
  const node = pod.spec?.nodeName;
  const owner: OwnerReference =
    sticky && top.kind === "StatefulSet" && top.ref
      ? { apiVersion: top.ref.apiVersion, kind: top.ref.kind, name: top.ref.name, uid: top.ref.uid, blockOwnerDeletion: false }
      : { apiVersion: "v1", kind: "Pod", name, uid, blockOwnerDeletion: false };
  return {
    apiVersion: API_VERSION,
    kind: "SpiderEndpoint",
    metadata: { name, namespace, ownerReferences: [owner], finalizers: [ENDPOINT_FINALIZER] },
    status: {
      current: {
        uid,
        ...(node ? { node } : {}),
        ips: assigned.ips,
        reservation: assigned.reservation,
      },
      ownerControllerType: top.kind,
      ownerControllerName: top.name,
    },
  };
}
