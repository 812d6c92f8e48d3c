import { parseAssignedIPs, type AssignedIPs } from "../annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../annotations/keys.js";
import { isIpamError, type IpamError } from "../errors.js";
import type { PodLike } from "../kinds/pod.js";
import { ConflictError, type Allocator, type Clock, type Log } from "../ports.js";
import { retry, type RetryPolicy } from "../retry.js";
import { recordedAddresses } from "./endpoints.js";
import { reservationId } from "./reservation-id.js";
import { podFacts, reserveAddresses, type Reservation, type ReserveContext } from "./reserve.js";

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
  /** Writes assigned-ips into the Pod, guarded by the resourceVersion it was read at (ConflictError when the Pod changed). */
  writeAssigned: (pod: PodLike, assigned: AssignedIPs) => Promise<void>;
  reserve: Omit<ReserveContext, "allocator">;
  allocator: Allocator;
  clock: Clock;
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

/** How often a write into the Pod that lost to another writer is tried again, on a fresh read. */
const POD_WRITE_RETRY: RetryPolicy = { attempts: 5, baseMs: 20, maxMs: 200, jitter: true };

/**
 * Reserves for the NIC (in the Pod's reservation when it has one) and writes the result
 * next to what the Pod already holds. A write that loses to another writer reads the Pod
 * again: when another allocation recorded the NIC meanwhile (they share the reservation
 * id), its answer stands and only what this call took that the Pod does not record is
 * given back, exactly, by token; never the shared reservation. A write that fails
 * otherwise may have landed: nothing is given back, and an unbound reservation is left to
 * the collector of expired reservations, which looks for its Pod live.
 */
async function reserveForNic(pod: PodLike, req: LateRequest, existing: AssignedIPs | undefined, d: LateAllocationDeps): Promise<LateOutcome> {
  const id = existing?.reservation ?? reservationId("late", req.uid);
  const log = d.log.child({ pod: `${req.namespace}/${req.name}`, reservation: id, interface: req.interface });
  let r: Reservation;
  try {
    r = await reserveAddresses(podFacts(pod, req.namespace, req.node), id, { ...d.reserve, allocator: d.allocator }, [req.interface]);
  } catch (err) {
    if (isIpamError(err)) return { kind: "refused", error: err };
    throw err;
  }
  let wrote = false;
  const outcome = await retry(
    async (attempt) => {
      const current = attempt === 1 ? pod : await d.readPod(req.namespace, req.name);
      const settled = current ? settledMeanwhile(current, req, id) : { kind: "conflict" as const, message: `pod ${req.namespace}/${req.name} does not exist` };
      if (settled) return settled;
      const now = currentAssigned(current as PodLike);
      const merged: AssignedIPs = { reservation: id, ips: [...(now?.ips ?? []), ...r.assigned.ips] };
      await d.writeAssigned(current as PodLike, merged);
      wrote = true;
      return { kind: "assigned" as const, assigned: merged };
    },
    { policy: POD_WRITE_RETRY, clock: d.clock, retryable: (err) => err instanceof ConflictError },
  );
  if (wrote) {
    log.info({ ips: r.assigned.ips }, "late allocation");
  } else {
    await giveBackUnrecorded(d.allocator, r.assigned, outcome.kind === "assigned" ? outcome.assigned : undefined);
  }
  return outcome;
}

/** The assigned-ips of a Pod as read now (undefined when it has none or it does not parse: the binder reports that). */
function currentAssigned(pod: PodLike): AssignedIPs | undefined {
  const text = pod.metadata.annotations?.[ANNO_ASSIGNED_IPS];
  if (!text) return undefined;
  try {
    return parseAssignedIPs(text);
  } catch {
    return undefined;
  }
}

/**
 * What a re-read Pod already answers: not the Pod asked about any more, or its NIC recorded
 * by another allocation meanwhile, or a reservation other than ours; undefined when this
 * call should write.
 */
function settledMeanwhile(pod: PodLike, req: LateRequest, id: string): LateOutcome | undefined {
  const mismatch = podMismatch(pod, req);
  if (mismatch !== undefined) return { kind: "conflict", message: mismatch };
  const now = currentAssigned(pod);
  if (now?.ips.some((n) => n.interface === req.interface)) return { kind: "assigned", assigned: now };
  if (now && now.reservation !== id) return { kind: "conflict", message: `pod ${req.namespace}/${req.name} now carries reservation ${now.reservation}` };
  return undefined;
}

/** Releases, by token, what this call took and the Pod does not record (a shared address another call wrote stays). */
async function giveBackUnrecorded(allocator: Allocator, taken: AssignedIPs, recorded: AssignedIPs | undefined): Promise<void> {
  const kept = new Set(recordedAddresses(recorded?.ips ?? []).map((a) => `${a.pool}/${a.address}/${a.token}`));
  const mine = recordedAddresses(taken.ips).filter((a) => !kept.has(`${a.pool}/${a.address}/${a.token}`));
  await Promise.all(mine.map((a) => allocator.submit(a.pool, { kind: "release", address: a.address, token: a.token })));
}
