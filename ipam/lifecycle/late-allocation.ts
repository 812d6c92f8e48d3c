import { parseAssignedIPs, type AssignedIPs } from "../annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../annotations/keys.js";
import { isIpamError, type IpamError } from "../errors.js";
import type { PodLike } from "../kinds/pod.js";
import type { Allocator, Log } from "../ports.js";
import { recordedAddresses } from "./endpoints.js";
import { reservationId } from "./reservation-id.js";
import { podFacts, reserveAddresses, type ReserveContext } from "./reserve.js";

/** What a node agent asks for: addresses for one NIC of a Pod on its node. */
export interface LateRequest {
  namespace: string;
  name: string;
  uid: string;
  node: string;
  interface: string;
}

export type LateOutcome =
  | { kind: "assigned"; assigned: AssignedIPs }
  /** The Pod is not the one asked about (re-created, or on another node): the agent asks again or gives up. */
  | { kind: "conflict"; message: string }
  | { kind: "refused"; error: IpamError };

export interface LateAllocationDeps {
  /** A live read of the Pod. */
  readPod: (namespace: string, name: string) => Promise<PodLike | undefined>;
  /** Writes assigned-ips into the Pod, guarded by the resourceVersion it was read at. */
  writeAssigned: (pod: PodLike, assigned: AssignedIPs) => Promise<void>;
  reserve: Omit<ReserveContext, "allocator">;
  allocator: Allocator;
  log: Log;
}

/**
 * Late allocation, for a Pod that reached CNI without addresses for a NIC (its namespace is
 * excluded from the webhook, it predates Spiderpool, or its pools were deferred to CNI
 * time): the same reservation as admission, now with the node known, written into the Pod's
 * assigned-ips; the binder records it as for any Pod.
 */
export async function allocateLate(req: LateRequest, d: LateAllocationDeps): Promise<LateOutcome> {
  const pod = await d.readPod(req.namespace, req.name);
  if (!pod) return { kind: "conflict", message: `pod ${req.namespace}/${req.name} does not exist` };
  const mismatch = podMismatch(pod, req);
  if (mismatch !== undefined) return { kind: "conflict", message: mismatch };
  const text = pod.metadata.annotations?.[ANNO_ASSIGNED_IPS];
  const existing = text ? parseAssignedIPs(text) : undefined;
  if (existing?.ips.some((n) => n.interface === req.interface)) return { kind: "assigned", assigned: existing };
  return reserveForNic(pod, req, existing, d);
}

/** Why the Pod read is not the one the agent asks about (re-created, or on another node). */
function podMismatch(pod: PodLike, req: LateRequest): string | undefined {
  if (pod.metadata.uid !== req.uid) return `pod ${req.namespace}/${req.name} has uid ${pod.metadata.uid}, not ${req.uid}`;
  if (pod.spec?.nodeName !== req.node) return `pod ${req.namespace}/${req.name} is on node ${pod.spec?.nodeName}, not ${req.node}`;
  return undefined;
}

/**
 * Reserves for the NIC (in the Pod's reservation when it has one) and writes the result
 * next to what the Pod already holds; gives the addresses back when the write fails.
 */
async function reserveForNic(pod: PodLike, req: LateRequest, existing: AssignedIPs | undefined, d: LateAllocationDeps): Promise<LateOutcome> {
  const id = existing?.reservation ?? reservationId("late", req.uid);
  const log = d.log.child({ pod: `${req.namespace}/${req.name}`, reservation: id, interface: req.interface });
  try {
    const r = await reserveAddresses(podFacts(pod, req.namespace, req.node), id, { ...d.reserve, allocator: d.allocator }, [req.interface]);
    const merged: AssignedIPs = { reservation: id, ips: [...(existing?.ips ?? []), ...r.assigned.ips] };
    try {
      await d.writeAssigned(pod, merged);
    } catch (err) {
      await giveBack(d.allocator, r.assigned, id);
      throw err;
    }
    log.info({ ips: r.assigned.ips }, "late allocation");
    return { kind: "assigned", assigned: merged };
  } catch (err) {
    if (isIpamError(err)) return { kind: "refused", error: err };
    throw err;
  }
}

async function giveBack(allocator: Allocator, assigned: AssignedIPs, id: string): Promise<void> {
  const pools = new Set(recordedAddresses(assigned.ips).map((a) => a.pool));
  await Promise.all([...pools].map((p) => allocator.submit(p, { kind: "release-reservation", reservation: id })));
}
