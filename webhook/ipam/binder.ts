import type { Logger } from "pino";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { buildPoolView } from "../../ipam/allocation/pool-view.js";
import { findReservation, tokenAt } from "../../ipam/allocation/state.js";
import { parseAssignedIPs, sameNics, type AssignedIPs } from "../../ipam/annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../../ipam/annotations/keys.js";
import type { SpiderEndpoint } from "../../ipam/kinds/endpoint.js";
import type { SpiderIPPool } from "../../ipam/kinds/ippool.js";
import type { OwnerReference } from "../../ipam/kinds/meta.js";
import type { Cache } from "../../k8s/informer.js";
import type { CustomResources } from "../../k8s/resources.js";
import { ENDPOINT_FINALIZER, recordedAddresses, releaseEndpoint, releaseRecorded } from "../../k8s/endpoint-release.js";
import { endpointFor, type PodRef } from "./endpoints.js";
import type { Allocator } from "../../k8s/pool-writer.js";

export interface PodLike {
  metadata: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    deletionTimestamp?: string | Date;
  };
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

export interface BinderDeps {
  pods: Cache<PodLike>;
  endpoints: Cache<SpiderEndpoint>;
  pools: Cache<SpiderIPPool>;
  poolApi: CustomResources<SpiderIPPool>;
  endpointApi: CustomResources<SpiderEndpoint>;
  allocator: Allocator;
  event: (pod: PodLike, type: "Normal" | "Warning", reason: string, message: string) => Promise<void>;
  log: Logger;
  onRelease?: (reason: string, count: number) => void;
}

/**
 * Binds reservations to Pods: when a Pod carrying ipam.spidernet.io/assigned-ips appears,
 * checks the annotation against the pools' record (the truth: a forged or stale annotation
 * binds nothing), records it in a SpiderEndpoint named after the Pod, and binds the
 * reservation in each pool so no TTL collects it. When the Pod is gone, releases exactly
 * the recorded addresses (by token) and lets the endpoint go.
 */
export class Binder {
  constructor(private readonly d: BinderDeps) {}

  async reconcile(key: string): Promise<void> {
    const [namespace = "", name = ""] = key.split("/", 2);
    const pod = this.d.pods.get(name, namespace);
    const ep = this.d.endpoints.get(name, namespace);
    if (!pod || isFinished(pod)) {
      if (ep && !keepsAddresses(ep)) await this.releaseEndpoint(ep, pod ? "pod-finished" : "pod-deleted");
      return;
    }
    const text = pod.metadata.annotations?.[ANNO_ASSIGNED_IPS];
    if (!text || !pod.metadata.uid) return;
    let assigned: AssignedIPs;
    try {
      assigned = parseAssignedIPs(text);
    } catch (err) {
      await this.d.event(pod, "Warning", "InvalidAssignedIPs", (err as Error).message);
      return;
    }
    const current = ep?.status?.current;
    if (ep && current?.uid === pod.metadata.uid && current.reservation === assigned.reservation && sameNics(current.ips, assigned.ips)) {
      if (pod.spec?.nodeName && current.node !== pod.spec.nodeName) {
        await this.d.endpointApi.replaceStatus({ ...ep, status: { ...ep.status, current: { ...current, node: pod.spec.nodeName } } });
      }
      return;
    }
    const problem = await this.mismatch(assigned, ep);
    if (problem) {
      await this.d.event(pod, "Warning", "AssignedIPsMismatch", `${ANNO_ASSIGNED_IPS} does not match what the pools hold (${problem}); the pod gets no address from Spiderpool`);
      this.d.log.warn({ pod: key, problem }, "annotation does not match the pool record");
      return;
    }
    const ref: PodRef = {
      namespace,
      name,
      uid: pod.metadata.uid,
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}),
      ...(pod.metadata.ownerReferences ? { ownerReferences: pod.metadata.ownerReferences } : {}),
    };
    const desired = endpointFor(ref, assigned);
    if (ep && current && current.reservation !== assigned.reservation) {
      // An earlier Pod of this name held other addresses: release them before recording these.
      await this.releaseAddresses(ep, "replaced");
    }
    // Status is a subresource: the object is written first, then its status.
    const target = ep
      ? await this.d.endpointApi.replace({ ...ep, metadata: { ...ep.metadata, ownerReferences: desired.metadata.ownerReferences, finalizers: [ENDPOINT_FINALIZER] } })
      : await this.d.endpointApi.create(desired);
    // Attachments the agent recorded stay (late allocation adds a NIC to a live Pod).
    const attachments = ep && current?.uid === pod.metadata.uid ? current.attachments : undefined;
    const status = attachments && desired.status?.current ? { ...desired.status, current: { ...desired.status.current, attachments } } : desired.status;
    await this.d.endpointApi.replaceStatus({ ...target, status });
    const pools = new Set(recordedAddresses(assigned.ips).map((a) => a.pool));
    await Promise.all([...pools].map((p) => this.d.allocator.submit(p, { kind: "bind", reservation: assigned.reservation })));
    const summary = assigned.ips.map((n) => [n.interface, n.ipv4, n.ipv6].filter(Boolean).join(" ")).join(", ");
    await this.d.event(pod, "Normal", "IPReserved", `${summary} (reservation ${assigned.reservation})`);
  }

  /**
   * Why the annotation is not what the pools record, or undefined when it is. Each address
   * must be held under its token, and either still pending for this reservation (the first
   * binding) or already recorded for this very reservation by this Pod's endpoint (a
   * re-binding). An annotation copied from another Pod (where the webhook did not strip it)
   * fails both: its addresses are bound to someone else's endpoint.
   */
  private async mismatch(assigned: AssignedIPs, ep: SpiderEndpoint | undefined): Promise<string | undefined> {
    const mine = ep?.status?.current?.reservation === assigned.reservation ? recordedAddresses(ep.status.current.ips) : [];
    for (const a of recordedAddresses(assigned.ips)) {
      const recorded = mine.some((m) => m.pool === a.pool && m.address === a.address && m.token === a.token);
      // The informer may not have seen the admission's write yet: read the pool once more.
      let problem = this.checkPool(this.d.pools.get(a.pool), a, assigned.reservation, recorded);
      if (problem) problem = this.checkPool(await this.d.poolApi.get(a.pool), a, assigned.reservation, recorded);
      if (problem) return problem;
    }
    return undefined;
  }

  private checkPool(pool: SpiderIPPool | undefined, a: ReturnType<typeof recordedAddresses>[number], reservation: string, recorded: boolean): string | undefined {
    if (!pool) return `pool ${a.pool} does not exist`;
    let state;
    try {
      state = decodeAllocations(pool.status?.allocations, buildPoolView(pool).subnet);
    } catch {
      return `pool ${a.pool} cannot be read`;
    }
    if (tokenAt(state.runs, a.address) !== a.token) return `pool ${a.pool} does not hold ${a.text} under token ${a.token}`;
    const pending = findReservation(state, reservation)?.held.some((h) => h.address === a.address && h.token === a.token) ?? false;
    if (!pending && !recorded) return `${a.text} of pool ${a.pool} is not pending for reservation ${reservation} and this pod's endpoint does not record it`;
    return undefined;
  }

  private async releaseAddresses(ep: SpiderEndpoint, reason: string): Promise<void> {
    const released = await releaseRecorded(this.d.allocator, ep);
    this.d.onRelease?.(reason, released);
  }

  private async releaseEndpoint(ep: SpiderEndpoint, reason: string): Promise<void> {
    const released = await releaseEndpoint(this.d.allocator, this.d.endpointApi, ep, reason, this.d.log);
    this.d.onRelease?.(reason, released);
  }
}

function isFinished(pod: PodLike): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

/** A StatefulSet's endpoint outlives its Pod (the address sticks to the ordinal). */
function keepsAddresses(ep: SpiderEndpoint): boolean {
  return ep.status?.ownerControllerType === "StatefulSet" && !ep.metadata.deletionTimestamp;
}
