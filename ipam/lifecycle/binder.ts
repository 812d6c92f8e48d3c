import { decodeAllocations } from "../allocation/codec.js";
import { buildPoolView } from "../allocation/pool-view.js";
import { findReservation, tokenAt } from "../allocation/state.js";
import { parseAssignedIPs, sameNics, type AssignedIPs } from "../annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../annotations/keys.js";
import type { Workload } from "../kinds/application.js";
import type { SpiderEndpoint } from "../kinds/endpoint.js";
import type { SpiderIPPool } from "../kinds/ippool.js";
import { isFinished, type PodLike } from "../kinds/pod.js";
import type { Allocator, Cache, EndpointStore, EventRecorder, Log, PoolStore } from "../ports.js";
import { ENDPOINT_FINALIZER, endpointFor, recordedAddresses, releaseEndpoint, releaseRecorded } from "./endpoints.js";
import { keepsAddresses, statefulSetOwnerOf } from "./statefulset.js";

export interface BinderDeps {
  pods: Cache<PodLike>;
  endpoints: Cache<SpiderEndpoint>;
  pools: Cache<SpiderIPPool>;
  /** A live read of a pool the cache may not have caught up with. */
  poolStore: Pick<PoolStore, "get">;
  endpointStore: EndpointStore;
  allocator: Allocator;
  event: EventRecorder;
  log: Log;
  onRelease?: (reason: string, count: number) => void;
  /** The StatefulSets, to tell whether a gone Pod's ordinal is still wanted (none: no address sticks). */
  statefulSets?: Cache<Workload>;
  /** enableStatefulSet of the cluster configuration: whether StatefulSet addresses stick. */
  statefulSetsSticky?: () => boolean;
}

type Recorded = ReturnType<typeof recordedAddresses>[number];

const podSubject = (pod: PodLike): Parameters<EventRecorder>[0] => ({ apiVersion: "v1", kind: "Pod", metadata: pod.metadata });

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
      if (ep && !this.keeps(ep)) await this.releaseEndpoint(ep, pod ? "pod-finished" : "pod-deleted");
      return;
    }
    const assigned = await this.assignedOf(pod);
    if (!assigned) return;
    if (ep && (await this.alreadyBound(pod, ep, assigned))) return;
    const problem = await this.mismatch(assigned, ep);
    if (problem) {
      await this.d.event(podSubject(pod), "Warning", "AssignedIPsMismatch", `${ANNO_ASSIGNED_IPS} does not match what the pools hold (${problem}); the pod gets no address from Spiderpool`);
      this.d.log.warn({ pod: key, problem }, "annotation does not match the pool record");
      return;
    }
    await this.bind(pod, ep, assigned);
  }

  /** The Pod's reservation, once it has a uid; a malformed annotation is reported on the Pod. */
  private async assignedOf(pod: PodLike): Promise<AssignedIPs | undefined> {
    const text = pod.metadata.annotations?.[ANNO_ASSIGNED_IPS];
    if (!text || !pod.metadata.uid) return undefined;
    try {
      return parseAssignedIPs(text);
    } catch (err) {
      await this.d.event(podSubject(pod), "Warning", "InvalidAssignedIPs", (err as Error).message);
      return undefined;
    }
  }

  /** The endpoint records exactly this Pod and reservation (its node is kept up to date). */
  private async alreadyBound(pod: PodLike, ep: SpiderEndpoint, assigned: AssignedIPs): Promise<boolean> {
    const current = ep.status?.current;
    if (!current || current.uid !== pod.metadata.uid || current.reservation !== assigned.reservation || !sameNics(current.ips, assigned.ips)) return false;
    const node = pod.spec?.nodeName;
    if (node && current.node !== node) await this.d.endpointStore.replaceStatus({ ...ep, status: { ...ep.status, current: { ...current, node } } });
    return true;
  }

  private async bind(pod: PodLike, ep: SpiderEndpoint | undefined, assigned: AssignedIPs): Promise<void> {
    const current = ep?.status?.current;
    const desired = endpointFor(pod, assigned, this.sticky());
    if (ep && current && current.reservation !== assigned.reservation) {
      // An earlier Pod of this name held other addresses: release them before recording these.
      this.d.onRelease?.("replaced", await releaseRecorded(this.d.allocator, ep));
    }
    // Status is a subresource: the object is written first, then its status.
    const target = ep
      ? await this.d.endpointStore.replace({ ...ep, metadata: { ...ep.metadata, ownerReferences: desired.metadata.ownerReferences, finalizers: [ENDPOINT_FINALIZER] } })
      : await this.d.endpointStore.create(desired);
    // Attachments the agent recorded stay (late allocation adds a NIC to a live Pod).
    const attachments = current && current.uid === pod.metadata.uid ? current.attachments : undefined;
    const status = attachments && desired.status?.current ? { ...desired.status, current: { ...desired.status.current, attachments } } : desired.status;
    await this.d.endpointStore.replaceStatus({ ...target, status });
    const pools = new Set(recordedAddresses(assigned.ips).map((a) => a.pool));
    await Promise.all([...pools].map((p) => this.d.allocator.submit(p, { kind: "bind", reservation: assigned.reservation })));
    const summary = assigned.ips.map((n) => [n.interface, n.ipv4, n.ipv6].filter(Boolean).join(" ")).join(", ");
    await this.d.event(podSubject(pod), "Normal", "IPReserved", `${summary} (reservation ${assigned.reservation})`);
  }

  /**
   * Why the annotation is not what the pools record, or undefined when it is. Each address
   * must be held under its token, and either still pending for this reservation (the first
   * binding) or already recorded for this very reservation by this Pod's endpoint (a
   * re-binding). An annotation copied from another Pod (where the webhook did not strip it)
   * fails both: its addresses are bound to someone else's endpoint.
   */
  async mismatch(assigned: AssignedIPs, ep: SpiderEndpoint | undefined): Promise<string | undefined> {
    const mine = ep?.status?.current?.reservation === assigned.reservation ? recordedAddresses(ep.status.current.ips) : [];
    for (const a of recordedAddresses(assigned.ips)) {
      const recorded = mine.some((m) => m.pool === a.pool && m.address === a.address && m.token === a.token);
      // The informer may not have seen the admission's write yet: read the pool once more.
      let problem = checkPool(this.d.pools.get(a.pool), a, assigned.reservation, recorded);
      if (problem) problem = checkPool(await this.d.poolStore.get(a.pool), a, assigned.reservation, recorded);
      if (problem) return problem;
    }
    return undefined;
  }

  private sticky(): boolean {
    return this.d.statefulSets !== undefined && (this.d.statefulSetsSticky?.() ?? true);
  }

  /** A StatefulSet Pod's endpoint keeps its addresses while the StatefulSet wants its ordinal. */
  private keeps(ep: SpiderEndpoint): boolean {
    const owner = statefulSetOwnerOf(ep);
    const sts = owner ? this.d.statefulSets?.get(owner.name, ep.metadata.namespace) : undefined;
    return keepsAddresses(ep, sts, this.sticky());
  }

  private async releaseEndpoint(ep: SpiderEndpoint, reason: string): Promise<void> {
    const released = await releaseEndpoint(this.d.allocator, this.d.endpointStore, ep, reason, this.d.log);
    this.d.onRelease?.(reason, released);
  }
}

function checkPool(pool: SpiderIPPool | undefined, a: Recorded, reservation: string, recorded: boolean): string | undefined {
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
