import { parseAssignedIPs } from "../annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../annotations/keys.js";
import type { EndpointIP, SpiderEndpoint } from "../kinds/endpoint.js";
import { isFinished, podKey, type PodLike } from "../kinds/pod.js";
import { isStatefulSetEndpoint } from "./statefulset.js";
import { recordedAddresses, type RecordedAddress } from "./endpoints.js";

/** Who claims an address: a live Pod (by uid), through its endpoint or, before binding, its annotation. */
export interface Claim extends RecordedAddress {
  /** ns/name of the Pod. */
  readonly owner: string;
  readonly uid: string;
  readonly via: "endpoint" | "annotation";
  readonly reservation?: string;
  /** The Pod's interface the address is for. */
  readonly nic: string;
}

/** Pods by ns/name. */
export function podIndex(pods: readonly PodLike[]): Map<string, PodLike> {
  return new Map(pods.map((p) => [podKey(p), p]));
}

/** Whether the endpoint's recorded owner lives: its Pod exists under that uid and is not finished, or a StatefulSet keeps it. */
export function endpointOwnerLives(ep: SpiderEndpoint, pods: ReadonlyMap<string, PodLike>): boolean {
  const cur = ep.status?.current;
  if (!cur) return false;
  const pod = pods.get(podKey(ep));
  if (pod && pod.metadata.uid === cur.uid && !isFinished(pod)) return true;
  return isStatefulSetEndpoint(ep);
}

/** Each recorded address with the interface it is for. */
function byNic(ips: readonly EndpointIP[]): (RecordedAddress & { nic: string })[] {
  return ips.flatMap((n) => recordedAddresses([n]).map((a) => ({ ...a, nic: n.interface })));
}

/** The annotation's addresses of a Pod, none when it has none or it does not parse. */
function annotated(pod: PodLike): { reservation: string; addrs: (RecordedAddress & { nic: string })[] } | undefined {
  const text = pod.metadata.annotations?.[ANNO_ASSIGNED_IPS];
  if (!text) return undefined;
  try {
    const a = parseAssignedIPs(text);
    return { reservation: a.reservation, addrs: byNic(a.ips) };
  } catch {
    return undefined;
  }
}

/**
 * Every address claimed by a live owner: what live-owned endpoints record, and what live Pods
 * that no endpoint records yet carry in their annotation (admitted, not bound yet; not
 * terminating).
 */
export function liveClaims(endpoints: readonly SpiderEndpoint[], pods: readonly PodLike[]): Claim[] {
  const byKey = podIndex(pods);
  const out: Claim[] = [];
  const recorded = new Set<string>();
  for (const ep of endpoints) {
    const cur = ep.status?.current;
    if (!cur || !endpointOwnerLives(ep, byKey)) continue;
    recorded.add(`${podKey(ep)}/${cur.uid}`);
    for (const a of byNic(cur.ips)) out.push({ ...a, owner: podKey(ep), uid: cur.uid, via: "endpoint", ...(cur.reservation ? { reservation: cur.reservation } : {}) });
  }
  for (const pod of pods) {
    const uid = pod.metadata.uid ?? "";
    // A terminating Pod is never bound anew: without an endpoint, its annotation claims nothing (reclamation may have released it).
    if (isFinished(pod) || pod.metadata.deletionTimestamp || recorded.has(`${podKey(pod)}/${uid}`)) continue;
    const a = annotated(pod);
    if (a) for (const r of a.addrs) out.push({ ...r, owner: podKey(pod), uid, via: "annotation", reservation: a.reservation });
  }
  return out;
}
