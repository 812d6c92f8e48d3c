import { findReservation, tokenAt, type PendingReservation } from "../allocation/state.js";
import { readRecord } from "../allocation/usage.js";
import { parseAssignedIPs, sameNics, type AssignedIPs } from "../annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../annotations/keys.js";
import type { SpiderEndpoint } from "../kinds/endpoint.js";
import type { SpiderIPPool } from "../kinds/ippool.js";
import type { GcSettings } from "../kinds/cluster-config.js";
import { isFinished, isNodeReady, type NodeLike, type PodLike } from "../kinds/pod.js";
import type { Allocator, Cache, Clock, EndpointStore, EventRecorder, Log, PoolStore } from "../ports.js";
import { RecentMap } from "../recent-map.js";
import { ENDPOINT_FINALIZER, endpointFor, recordedAddresses, releaseEndpointAddresses, releaseRecordedAddresses, type RecordedAddress } from "./endpoints.js";
import { freshestPool } from "./pool-writer.js";
import { releaseVerdict, settledOnCache, type NodeState, type ReleaseReason } from "./release-rules.js";
import { keepsAddresses, statefulSetOwnerOf } from "./statefulset.js";
import type { Workload } from "../kinds/application.js";

export interface BinderDeps {
  pods: Cache<PodLike>;
  endpoints: Cache<SpiderEndpoint>;
  pools: Cache<SpiderIPPool>;
  nodes: Cache<NodeLike>;
  /** Live reads of an owner right before its addresses are released (the caches may be behind). */
  livePod: (namespace: string, name: string) => Promise<PodLike | undefined>;
  liveNode: (name: string) => Promise<NodeLike | undefined>;
  /**
   * Whether this Node's deletion was seen. A Pod bound to a node that never existed (a test,
   * a benchmark) is not judged by the node rule; in a cluster the Pod garbage collector
   * deletes such a Pod, and the Pod rule applies.
   */
  nodeDeleted: (name: string) => boolean;
  /**
   * Whether the Pod informer reported the deletion of the Pod with this uid. A deletion is
   * final (a Pod of the same name is another uid), so its endpoint is released without the
   * live read that guards against a cache that merely lost the Pod.
   */
  podDeleted?: (uid: string) => boolean;
  /** A live read of a pool the cache may not have caught up with. */
  poolStore: Pick<PoolStore, "get">;
  endpointStore: EndpointStore;
  allocator: Allocator;
  event: EventRecorder;
  gc: () => GcSettings;
  clock: Pick<Clock, "now">;
  log: Log;
  /** Every release, by reason, with what was freed (metrics, address history). */
  onRelease?: (reason: string, released: readonly RecordedAddress[], ep: SpiderEndpoint) => void;
  /** The StatefulSets, to tell whether a gone Pod's ordinal is still wanted (none: no address sticks). */
  statefulSets?: Cache<Workload>;
  /** enableStatefulSet of the cluster configuration: whether StatefulSet addresses stick. */
  statefulSetsSticky?: () => boolean;
  /**
   * How long a new Pod's binding waits for the scheduler to place it, so that its endpoint
   * is written once, with its node, instead of written and then given its node (0: at once).
   */
  bindWaitForNodeMs?: number;
}

type Recorded = ReturnType<typeof recordedAddresses>[number];

/** Endpoints let go that the binder remembers: far more than its watch can be behind by. */
const LET_GO_REMEMBERED = 16_384;

const podSubject = (pod: PodLike): Parameters<EventRecorder>[0] => ({ apiVersion: "v1", kind: "Pod", metadata: pod.metadata });

/** What reconcile asks of its queue: nothing, or to look again after `requeueAfterMs`. */
export interface BinderOutcome {
  requeueAfterMs?: number;
}

/**
 * Binds reservations to Pods: when a Pod carrying ipam.spidernet.io/assigned-ips appears,
 * checks the annotation against the pools' record (the truth: a forged or stale annotation
 * binds nothing), records it in a SpiderEndpoint named after the Pod, and binds the
 * reservation in each pool so no TTL collects it. When the endpoint's owner is gone, finished,
 * terminating past its grace, or on a deleted node (release-rules.ts), releases exactly the
 * recorded addresses (by token) and lets the endpoint go; that judgement is made again on a
 * live read of the owner, matched on uid, right before the release, unless the caches
 * showed a state of that uid no later one undoes (deleted, finished, terminating past grace).
 */
export class Binder {
  /** Pods waiting for the scheduler before their first binding: since when (by uid, so another Pod of the name waits afresh). */
  private readonly unplacedSince = new Map<string, { uid: string; since: number }>();
  /** Entries whose Pod was never looked at again (leadership moved on) are dropped when the map outgrows this. */
  private pruneAt = 1024;
  /**
   * Endpoints (by uid) this binder let go: the watch brings the binder's own finalizer write
   * and the garbage collector's mark after the apiserver has removed the object, and each copy
   * would otherwise be released again (its addresses are gone already) and written to,
   * a write that fails on an endpoint that is gone.
   */
  private readonly letGo = new RecentMap<string, true>(LET_GO_REMEMBERED);

  constructor(private readonly d: BinderDeps) {}

  async reconcile(key: string): Promise<BinderOutcome> {
    const [namespace = "", name = ""] = key.split("/", 2);
    const pod = this.d.pods.get(name, namespace);
    const ep = this.d.endpoints.get(name, namespace);
    // An endpoint let go is gone or going; its deletion event brings the Pod of this name (if any) back here.
    if (ep?.metadata.uid && this.letGo.has(ep.metadata.uid)) return {};
    const nodeGone = await this.nodeGone(pod);
    if (ep && (nodeGone || ownerMayBeGone(ep, pod))) {
      const outcome = await this.reclaim(ep, pod);
      // A released endpoint goes; its delete event brings the Pod of this name (if any) back here.
      if (outcome !== "kept") return typeof outcome === "number" ? { requeueAfterMs: outcome } : {};
    }
    // A Pod on a node that is gone is not bound (reclamation judged it above).
    if (!pod || !bindable(pod) || nodeGone) {
      this.unplacedSince.delete(key);
      return {};
    }
    const wait = this.waitForNode(key, pod, ep);
    if (wait > 0) return { requeueAfterMs: wait };
    await this.bindPod(key, pod, ep);
    return {};
  }

  /**
   * How much longer a new Pod's first binding waits for the scheduler (0: bind now). The
   * scheduler usually places a Pod within a second of its creation, and an endpoint written
   * before that must be written again for its node: waiting a little saves a write per Pod.
   * Never while the reservation could expire unbound: with less than twice the wait left to
   * live (or its record unreadable) the Pod is bound at once, placed or not.
   */
  private waitForNode(key: string, pod: PodLike, ep: SpiderEndpoint | undefined): number {
    const limit = this.d.bindWaitForNodeMs ?? 0;
    const uid = pod.metadata.uid ?? "";
    if (limit <= 0 || pod.spec?.nodeName || ep?.status?.current?.uid === uid) {
      this.unplacedSince.delete(key);
      return 0;
    }
    const now = this.d.clock.now();
    const left = this.waitingSince(key, uid, now, limit) + limit - now;
    if (left <= 0 || !this.livesPast(pod, now + 2 * limit)) {
      this.unplacedSince.delete(key);
      return 0;
    }
    return left;
  }

  /** When this Pod (by uid) began to wait for its node: now, for one not seen waiting before. */
  private waitingSince(key: string, uid: string, now: number, limit: number): number {
    const seen = this.unplacedSince.get(key);
    if (seen?.uid === uid) return seen.since;
    this.unplacedSince.set(key, { uid, since: now });
    if (this.unplacedSince.size > this.pruneAt) {
      for (const [k, v] of this.unplacedSince) if (v.since + limit <= now) this.unplacedSince.delete(k);
      this.pruneAt = Math.max(1024, 2 * this.unplacedSince.size);
    }
    return now;
  }

  /** Whether the Pod's reservation is pending in each of its pools until at least `at`. */
  private livesPast(pod: PodLike, at: number): boolean {
    let assigned: AssignedIPs;
    try {
      assigned = parseAssignedIPs(pod.metadata.annotations?.[ANNO_ASSIGNED_IPS] ?? "");
    } catch {
      return false; // bindPod reports it
    }
    return poolsOf(assigned).every((name) => (this.pendingEntry(name, assigned.reservation)?.expiresAt ?? -Infinity) >= at);
  }

  /** Whether the Pod's node is gone: its deletion was seen, the cache lacks it and a live read confirms. */
  private async nodeGone(pod: PodLike | undefined): Promise<boolean> {
    const node = pod?.spec?.nodeName;
    if (!node || this.d.nodes.get(node) || !this.d.nodeDeleted(node)) return false;
    return (await this.d.liveNode(node)) === undefined;
  }

  /** Records the Pod's reservation, once the annotation is checked against the pools. */
  private async bindPod(key: string, pod: PodLike, ep: SpiderEndpoint | undefined): Promise<void> {
    const assigned = await this.assignedOf(pod);
    if (!assigned) return;
    if (ep && (await this.alreadyBound(pod, ep, assigned))) {
      // The endpoint was written but the pool's bind was not (it failed, and this is the retry).
      const unbound = this.pendingIn(assigned);
      if (unbound.length > 0) await this.bindInPools(pod, assigned, unbound);
      return;
    }
    const problem = await this.mismatch(assigned, ep);
    if (problem) {
      await this.d.event(podSubject(pod), "Warning", "AssignedIPsMismatch", `${ANNO_ASSIGNED_IPS} does not match what the pools hold (${problem}); the pod gets no address from Spiderpool`);
      this.d.log.warn({ pod: key, problem }, "annotation does not match the pool record");
      return;
    }
    await this.bind(pod, ep, assigned);
  }

  /** The state of a Pod's node: from the cache, and when the cache lacks it, live (a deleted node is judged on a live read). */
  private async nodeState(pod: PodLike | undefined): Promise<NodeState> {
    const name = pod?.spec?.nodeName;
    if (!name) return "unscheduled";
    const node = this.d.nodes.get(name) ?? (await this.d.liveNode(name));
    if (!node) return this.d.nodeDeleted(name) ? "deleted" : "not-ready";
    return isNodeReady(node) ? "ready" : "not-ready";
  }

  /**
   * Releases the endpoint's addresses when the rules say so, judged first on the caches and,
   * unless they show a final state of the owner, again on a live read of it: "released",
   * "kept" (the owner lives), or the ms after which time alone may change the answer (a Pod
   * within its grace period).
   */
  private async reclaim(ep: SpiderEndpoint, cached: PodLike | undefined): Promise<"released" | "kept" | number> {
    const gc = this.d.gc();
    const owner = ep.status?.current?.uid ?? "";
    // Reclamation switched off, or a StatefulSet's endpoint whose ordinal is still wanted (its address sticks): binding goes on.
    if (!gc.enabled || this.keeps(ep)) return "kept";
    const first = releaseVerdict(cached, owner, await this.nodeState(cached), gc, this.d.clock.now());
    if ("keep" in first) return first.recheckAt === undefined ? "kept" : Math.max(0, first.recheckAt - this.d.clock.now());
    const settled = cached?.metadata.uid === owner ? settledOnCache(cached, first.release) : undefined;
    if (settled) {
      await this.releaseEndpoint(ep, settled, cached);
      return "released";
    }
    const live = await this.ownerNow(ep, cached, owner);
    const again = releaseVerdict(live, owner, await this.nodeState(live), gc, this.d.clock.now());
    if ("keep" in again) return again.recheckAt === undefined ? "kept" : Math.max(0, again.recheckAt - this.d.clock.now());
    await this.releaseEndpoint(ep, again.release, live?.metadata.uid === owner ? live : undefined);
    return "released";
  }

  /** The owner as the apiserver has it: a Pod seen deleted (by uid) is gone for good, one the cache merely lacks is read live. */
  private async ownerNow(ep: SpiderEndpoint, cached: PodLike | undefined, owner: string): Promise<PodLike | undefined> {
    if (cached === undefined && owner !== "" && this.d.podDeleted?.(owner) === true) return undefined;
    return this.d.livePod(ep.metadata.namespace ?? "", ep.metadata.name ?? "");
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
    if (node && current.node !== node) await this.d.endpointStore.replace({ ...ep, status: { ...ep.status, current: { ...current, node } } });
    return true;
  }

  private async bind(pod: PodLike, ep: SpiderEndpoint | undefined, assigned: AssignedIPs): Promise<void> {
    const current = ep?.status?.current;
    const desired = endpointFor(pod, assigned, this.sticky());
    if (ep && current && current.reservation !== assigned.reservation) {
      // An earlier Pod of this name held other addresses: release them before recording these.
      this.d.onRelease?.("replaced", await releaseRecordedAddresses(this.d.allocator, ep), ep);
    }
    // Attachments the agent recorded stay (late allocation adds a NIC to a live Pod).
    const attachments = current && current.uid === pod.metadata.uid ? current.attachments : undefined;
    const status = attachments && desired.status?.current ? { ...desired.status, current: { ...desired.status.current, attachments } } : desired.status;
    // One write: the endpoint has no status subresource.
    if (ep) await this.d.endpointStore.replace({ ...ep, metadata: { ...ep.metadata, ownerReferences: desired.metadata.ownerReferences, finalizers: [ENDPOINT_FINALIZER] }, status });
    else await this.d.endpointStore.create(desired);
    await this.bindInPools(pod, assigned, poolsOf(assigned));
  }

  /** Binds the reservation in `pools` (its pending entry goes; the addresses stay held), then says so in an Event. */
  private async bindInPools(pod: PodLike, assigned: AssignedIPs, pools: readonly string[]): Promise<void> {
    await Promise.all(pools.map((p) => this.d.allocator.submit(p, { kind: "bind", reservation: assigned.reservation })));
    const summary = assigned.ips.map((n) => [n.interface, n.ipv4, n.ipv6].filter(Boolean).join(" ")).join(", ");
    await this.d.event(podSubject(pod), "Normal", "IPReserved", `${summary} (reservation ${assigned.reservation})`);
  }

  /** The pools of the annotation that still hold its reservation pending, as the allocator's freshest copy (or the cache) shows them. */
  private pendingIn(assigned: AssignedIPs): string[] {
    return poolsOf(assigned).filter((name) => this.pendingEntry(name, assigned.reservation) !== undefined);
  }

  /** The reservation's pending entry in the freshest record of pool `name`; undefined when it holds none. */
  private pendingEntry(name: string, reservation: string): PendingReservation | undefined {
    const state = readRecord(freshestPool(this.d.allocator, this.d.pools, name));
    return state && findReservation(state, reservation);
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
      // The informer may be behind the allocator's own last write (the bind of a Pod that holds
      // this reservation already): the allocator's copy is the fresher of the two. When it finds
      // a problem the admission's write may not have reached either yet: the pool is read once more.
      let problem = checkPool(freshestPool(this.d.allocator, this.d.pools, a.pool), a, assigned.reservation, recorded);
      if (problem) problem = checkPool(await this.d.poolStore.get(a.pool), a, assigned.reservation, recorded);
      if (problem) return problem;
    }
    return undefined;
  }

  /** A StatefulSet Pod's endpoint keeps its addresses while the StatefulSet wants its ordinal. */
  private keeps(ep: SpiderEndpoint): boolean {
    const owner = statefulSetOwnerOf(ep);
    const sts = owner ? this.d.statefulSets?.get(owner.name, ep.metadata.namespace) : undefined;
    return keepsAddresses(ep, sts, this.sticky());
  }

  /** Whether StatefulSet addresses stick: a StatefulSet cache is wired and enableStatefulSet holds. */
  private sticky(): boolean {
    return this.d.statefulSets !== undefined && (this.d.statefulSetsSticky?.() ?? true);
  }

  private async releaseEndpoint(ep: SpiderEndpoint, reason: ReleaseReason, owner: PodLike | undefined): Promise<void> {
    const onReleased = (released: RecordedAddress[]): void => this.d.onRelease?.(reason, released, ep);
    const released = await releaseEndpointAddresses(this.d.allocator, this.d.endpointStore, ep, { reason, log: this.d.log, onReleased });
    if (ep.metadata.uid) this.letGo.set(ep.metadata.uid, true);
    if (released.length === 0) return;
    const subject = owner ?? { metadata: { name: ep.metadata.name, namespace: ep.metadata.namespace, uid: ep.status?.current?.uid } };
    // Events are for people: the release does not wait for one (the recorder never throws).
    void this.d.event(podSubject(subject), "Normal", "IPReleased", `${released.map((a) => `${a.text} (pool ${a.pool})`).join(", ")} released: ${reason}`);
  }
}

/** Whether the cache shows the endpoint's owner gone, finished or terminating (the binder then asks the rules). */
export function ownerMayBeGone(ep: SpiderEndpoint, pod: PodLike | undefined): boolean {
  const owner = ep.status?.current?.uid;
  return owner !== undefined && (!pod || pod.metadata.uid !== owner || !bindable(pod));
}

/** A Pod that may still get its reservation bound: not finished, not terminating. */
const bindable = (pod: PodLike): boolean => !isFinished(pod) && !pod.metadata.deletionTimestamp;

/** The pools an annotation's addresses come from, each once. */
const poolsOf = (assigned: AssignedIPs): string[] => [...new Set(recordedAddresses(assigned.ips).map((a) => a.pool))];

function checkPool(pool: SpiderIPPool | undefined, a: Recorded, reservation: string, recorded: boolean): string | undefined {
  if (!pool) return `pool ${a.pool} does not exist`;
  const state = readRecord(pool);
  if (!state) return `pool ${a.pool} cannot be read`;
  if (tokenAt(state.runs, a.address) !== a.token) return `pool ${a.pool} does not hold ${a.text} under token ${a.token}`;
  const pending = findReservation(state, reservation)?.held.some((h) => h.address === a.address && h.token === a.token) ?? false;
  if (!pending && !recorded) return `${a.text} of pool ${a.pool} is not pending for reservation ${reservation} and this pod's endpoint does not record it`;
  return undefined;
}
