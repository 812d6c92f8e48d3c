import { createHash } from "node:crypto";
import type { Logger } from "pino";
import { formatAssignedIPs } from "../../ipam/annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../../ipam/annotations/keys.js";
import { IpamError, isIpamError } from "../../ipam/errors.js";
import type { OwnerReference } from "../../ipam/kinds/meta.js";
import { constrainToNodes, type Affinity } from "../../ipam/placement/node-affinity.js";
import { reserveAddresses, type PodFacts, type ReserveContext } from "../ipam/reserve.js";
import type { Allocator } from "../../k8s/pool-writer.js";
import type { AdmissionHandler } from "../server.js";
import { pointerSegment } from "./json-patch.js";
import { allow, deny, type JsonPatchOp } from "./review.js";

/** The slice of a Pod the webhooks read. */
export interface PodObject {
  metadata: {
    name?: string;
    generateName?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
  };
  spec?: { nodeName?: string; hostNetwork?: boolean; affinity?: Affinity };
}

export interface PodWebhookOptions {
  reserve: Omit<ReserveContext, "allocator">;
  allocator: Allocator;
  dryRunAllocator: () => Allocator;
  /** Namespaces whose Pods the webhook leaves alone (also excluded at registration). */
  excludedNamespaces: ReadonlySet<string>;
  /** Who may write ipam.spidernet.io/assigned-ips on an existing Pod. */
  systemUsers: ReadonlySet<string>;
  log: Logger;
  observe: (outcome: { ok: boolean; reason?: string; seconds: number; dryRun: boolean }) => void;
}

/**
 * One id per admission request: the apiserver repeats a webhook call with the same request
 * uid, and the same id makes the repeat get the same reservation instead of a second one.
 */
export function reservationIdOf(requestUid: string): string {
  return `r${createHash("sha256").update(requestUid).digest("hex").slice(0, 15)}`;
}

function httpCodeOf(err: IpamError): number {
  return err.code === "ANNOTATION_INVALID" || err.code === "IP_INVALID" ? 422 : 403;
}

/** Mutating webhook on Pod CREATE: reserve the Pod's addresses and write them into it. */
export function podMutatingHandler(o: PodWebhookOptions): AdmissionHandler {
  return async (req) => {
    const pod = req.object as PodObject | undefined;
    const namespace = pod?.metadata.namespace ?? req.namespace ?? "";
    if (req.operation !== "CREATE" || !pod || o.excludedNamespaces.has(namespace) || pod.spec?.hostNetwork) return allow(req);
    const started = process.hrtime.bigint();
    const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    const dryRun = req.dryRun === true;
    // Whatever assigned-ips a client sends (a copied manifest) is not ours: it is replaced.
    const annotations = { ...pod.metadata.annotations };
    delete annotations[ANNO_ASSIGNED_IPS];
    const facts: PodFacts = {
      namespace,
      ...(pod.metadata.name ? { name: pod.metadata.name } : {}),
      labels: pod.metadata.labels ?? {},
      annotations,
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      ...(pod.metadata.ownerReferences ? { ownerReferences: pod.metadata.ownerReferences } : {}),
    };
    const id = reservationIdOf(req.uid);
    const log = o.log.child({ pod: `${namespace}/${pod.metadata.name ?? `${pod.metadata.generateName ?? ""}*`}`, reservation: id, dryRun });
    try {
      const r = await reserveAddresses(facts, id, { ...o.reserve, allocator: dryRun ? o.dryRunAllocator() : o.allocator, dryRun });
      const patch: JsonPatchOp[] = [];
      const value = formatAssignedIPs(r.assigned);
      if (pod.metadata.annotations) patch.push({ op: "add", path: `/metadata/annotations/${pointerSegment(ANNO_ASSIGNED_IPS)}`, value });
      else patch.push({ op: "add", path: "/metadata/annotations", value: { [ANNO_ASSIGNED_IPS]: value } });
      if (r.constraints.length > 0) {
        patch.push({ op: "add", path: "/spec/affinity", value: constrainToNodes(pod.spec?.affinity, r.constraints) });
      }
      o.observe({ ok: true, seconds: seconds(), dryRun });
      log.info({ ips: r.assigned.ips, constraints: r.constraints.length, deferred: r.deferred }, "addresses reserved");
      return allow(req, patch);
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
  };
}

/** Validating webhook on Pod UPDATE: only the system may change what was reserved. */
export function podValidatingHandler(o: Pick<PodWebhookOptions, "systemUsers">): AdmissionHandler {
  return (req) => {
    if (req.operation !== "UPDATE") return allow(req);
    const before = (req.oldObject as PodObject | undefined)?.metadata.annotations?.[ANNO_ASSIGNED_IPS];
    const after = (req.object as PodObject | undefined)?.metadata.annotations?.[ANNO_ASSIGNED_IPS];
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
