import { formatAssignedIPs } from "../../ipam/annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../../ipam/annotations/keys.js";
import { IpamError, isIpamError } from "../../ipam/errors.js";
import type { PodLike } from "../../ipam/kinds/pod.js";
import { reservationId } from "../../ipam/lifecycle/reservation-id.js";
import { podFacts, reserveAddresses, type Reservation, type ReserveContext } from "../../ipam/lifecycle/reserve.js";
import { constrainToNodes } from "../../ipam/placement/node-affinity.js";
import type { Allocator, Clock, Log } from "../../ipam/ports.js";
import { pointerSegment } from "./json-patch.js";
import { allow, deny, whenSynced, type AdmissionHandler, type AdmissionRequest, type AdmissionReview, type JsonPatchOp } from "./review.js";

export interface PodWebhookOptions {
  reserve: Omit<ReserveContext, "allocator">;
  allocator: Allocator;
  dryRunAllocator: () => Allocator;
  /** Namespaces whose Pods the webhook leaves alone (also excluded at registration). */
  excludedNamespaces: ReadonlySet<string>;
  /** Who may write ipam.spidernet.io/assigned-ips on an existing Pod. */
  systemUsers: ReadonlySet<string>;
  log: Log;
  /** Whether every cache reservation reads has its first list; until then Pods are answered retryLater. */
  synced: () => boolean;
  observe: (outcome: { ok: boolean; reason?: string; seconds: number; dryRun: boolean }) => void;
  /** Waiting for an address on its way back when the Pod's pools are full (none: refuse at once). */
  releases?: ReleaseWait;
}

/**
 * When every candidate pool is full but one of its addresses is on its way back (held by a
 * Pod that is gone, terminating or finished, which the binder is about to release), the
 * admission waits for it a little instead of refusing at once. A refused Pod is created again
 * by its controller only after a backoff that doubles with each refusal; a rolling update or
 * a re-created application at a full pool would otherwise wait out those backoffs.
 */
export interface ReleaseWait {
  /** Whether an address of one of these pools is held by a Pod that is gone or going. */
  coming: (pools: readonly string[]) => boolean;
  /** Whether one of these pools shows a free address (in the cache). */
  free: (pools: readonly string[]) => boolean;
  /** The longest wait, well inside the webhook's timeout. */
  waitMs: number;
  clock: Pick<Clock, "now" | "sleep">;
}

/** How often a waiting admission looks at the pools again. */
const RELEASE_POLL_MS = 100;

function httpCodeOf(err: IpamError): number {
  return err.code === "ANNOTATION_INVALID" || err.code === "IP_INVALID" ? 422 : 403;
}

/** The patch that writes the reservation into the Pod (and its node constraints into its affinity). */
function reservationPatch(pod: PodLike, r: Reservation): JsonPatchOp[] {
  const value = formatAssignedIPs(r.assigned);
  const patch: JsonPatchOp[] = pod.metadata.annotations
    ? [{ op: "add", path: `/metadata/annotations/${pointerSegment(ANNO_ASSIGNED_IPS)}`, value }]
    : [{ op: "add", path: "/metadata/annotations", value: { [ANNO_ASSIGNED_IPS]: value } }];
  if (r.constraints.length > 0) patch.push({ op: "add", path: "/spec/affinity", value: constrainToNodes(pod.spec?.affinity, r.constraints) });
  return patch;
}

/** The answer to a reservation: untouched when no NIC is Spiderpool's, else the patch; warnings either way. */
function admitted(req: AdmissionRequest, pod: PodLike, r: Reservation, log: Log): AdmissionReview {
  // No NIC of this Pod is Spiderpool's (eth0 is another plugin's, its networks use other IPAMs): admitted untouched.
  if (r.assigned.ips.length === 0 && r.deferred.length === 0) {
    log.debug({ warnings: r.warnings }, "no Spiderpool NIC; pod admitted untouched");
    return allow(req, [], r.warnings);
  }
  log.info({ ips: r.assigned.ips, constraints: r.constraints.length, deferred: r.deferred }, "addresses reserved");
  return allow(req, reservationPatch(pod, r), r.warnings);
}

/** The pools a POOL_EXHAUSTED refusal names, when an address of one of them is on its way back. */
function awaitedPools(err: unknown, wait: ReleaseWait | undefined): readonly string[] | undefined {
  const pools = isIpamError(err, "POOL_EXHAUSTED") ? (err.details.pools as readonly string[] | undefined) : undefined;
  return wait && pools && pools.length > 0 && wait.coming(pools) ? pools : undefined;
}

/** Reserves; when the pools are full and an address of theirs is on its way back, tries again as it comes, until `waitMs`. */
async function reserveOrWait(reserve: () => Promise<Reservation>, wait: ReleaseWait | undefined, log: Log): Promise<Reservation> {
  try {
    return await reserve();
  } catch (err) {
    const pools = awaitedPools(err, wait);
    if (!wait || !pools) throw err;
    log.debug({ pools }, "pools full with a release on its way; waiting for it");
    const deadline = wait.clock.now() + wait.waitMs;
    while (wait.clock.now() < deadline) {
      await wait.clock.sleep(RELEASE_POLL_MS);
      if (!wait.free(pools)) continue;
      try {
        return await reserve();
      } catch (again) {
        if (!isIpamError(again, "POOL_EXHAUSTED")) throw again;
      }
    }
    throw err;
  }
}

/** Mutating webhook on Pod CREATE: reserve the Pod's addresses and write them into it. */
export function podMutatingHandler(o: PodWebhookOptions): AdmissionHandler {
  return whenSynced(o.synced, async (req) => {
    const pod = req.object as PodLike | undefined;
    const namespace = pod?.metadata.namespace ?? req.namespace ?? "";
    if (req.operation !== "CREATE" || !pod || o.excludedNamespaces.has(namespace) || pod.spec?.hostNetwork) return allow(req);
    const started = process.hrtime.bigint();
    const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    const dryRun = req.dryRun === true;
    // The apiserver repeats a call with the same request uid: the same id gets the same reservation.
    const id = reservationId("admission", req.uid);
    const log = o.log.child({ pod: `${namespace}/${pod.metadata.name ?? `${pod.metadata.generateName ?? ""}*`}`, reservation: id, dryRun });
    try {
      // Whatever assigned-ips a client sends (a copied manifest) is not ours: podFacts drops it.
      const reserve = (): Promise<Reservation> => reserveAddresses(podFacts(pod, namespace), id, { ...o.reserve, allocator: dryRun ? o.dryRunAllocator() : o.allocator, dryRun });
      const r = await reserveOrWait(reserve, dryRun ? undefined : o.releases, log);
      o.observe({ ok: true, seconds: seconds(), dryRun });
      return admitted(req, pod, r, log);
    } catch (err) {
      if (isIpamError(err)) {
        o.observe({ ok: false, reason: err.code, seconds: seconds(), dryRun });
        log.info({ code: err.code, reason: err.message }, "pod refused");
        return deny(req, err.message, httpCodeOf(err), err.code);
      }
      o.observe({ ok: false, reason: "INTERNAL", seconds: seconds(), dryRun });
      log.error({ err }, "reservation failed");
      return deny(req, `Spiderpool could not reserve addresses for this pod: ${(err as Error).message}; the request can be retried`, 500, "InternalError");
    }
  });
}

/** Validating webhook on Pod UPDATE: only the system may change what was reserved. */
export function podValidatingHandler(o: Pick<PodWebhookOptions, "systemUsers">): AdmissionHandler {
  return (req) => {
    if (req.operation !== "UPDATE") return allow(req);
    const before = (req.oldObject as PodLike | undefined)?.metadata.annotations?.[ANNO_ASSIGNED_IPS];
    const after = (req.object as PodLike | undefined)?.metadata.annotations?.[ANNO_ASSIGNED_IPS];
    if (before === after || o.systemUsers.has(req.userInfo.username ?? "")) return allow(req);
    const what = after === undefined ? "removed" : before === undefined ? "added" : "changed";
    return deny(
      req,
      `annotation ${ANNO_ASSIGNED_IPS} is written by Spiderpool only and records the addresses reserved for this pod; ${req.userInfo.username ?? "this user"} ${what} it: undo that change (to get other addresses, recreate the pod with other pool annotations)`,
      403,
      "Forbidden",
    );
  };
}
