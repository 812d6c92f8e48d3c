import { ANNO_ASSIGNED_IPS } from "../../ipam/annotations/keys.js";
import type { SpiderEndpoint } from "../../ipam/kinds/endpoint.js";
import type { SpiderIPPool } from "../../ipam/kinds/ippool.js";
import type { RecentMap } from "../../ipam/recent-map.js";
import { isNodeReady, podKey, type NodeLike, type PodLike } from "../../ipam/kinds/pod.js";
import type { Binder } from "../../ipam/lifecycle/binder.js";
import { collectExpiredReservations } from "../../ipam/lifecycle/reservation-gc.js";
import type { Allocator, Clock, Log } from "../../ipam/ports.js";
import type { StartedInformer } from "../../k8s/informer.js";
import { WorkQueue } from "../../runtime/work-queue.js";
import type { LeaderTask } from "./leader-task.js";
import type { ReservationIndex } from "./reservation-index.js";

export interface PodBindingDeps {
  pods: StartedInformer<PodLike>;
  endpoints: StartedInformer<SpiderEndpoint>;
  pools: StartedInformer<SpiderIPPool>;
  nodes: StartedInformer<NodeLike>;
  binder: Binder;
  /** Nodes whose deletion the informer reported (the binder's node rule reads it). */
  deletedNodes: Set<string>;
  /** Uids of the Pods whose deletion the informer reported (the binder then skips its live read). */
  deletedPods?: Pick<RecentMap<string, true>, "set">;
  reservations: ReservationIndex;
  /** A live read of which Pod carries which reservation (the collector's second look). */
  livePodsByReservation: () => Promise<ReadonlyMap<string, string>>;
  allocator: Allocator;
  clock: Clock;
  log: Log;
  /** How long a reservation may wait for its Pod; the collector runs four times per lifetime. */
  reservationTtlMs: number;
  /** After this long a reservation whose Pod a live read does not find is released (a Pod refused after the webhook); the collector runs twice per grace. */
  refusedPodGraceMs?: number;
  /** A live GET of one Pod (refused Pods whose reservation names them). */
  livePod?: (namespace: string, name: string) => Promise<PodLike | undefined>;
  onExpiredRelease?: (count: number) => void;
  /** A reconcile that failed (it is retried with backoff): spiderpool_ip_gc_failure_counts_total. */
  onFailure?: (reason: string) => void;
}

/**
 * Pods reconciled at once. Each key is a few apiserver round trips (a live read, the pool
 * write, the endpoint write, an Event) and keys are independent (the pool writer batches
 * their pool writes): a burst of deletions must not queue a new Pod's binding for long.
 */
const BINDER_CONCURRENCY = 16;

/** A Pod looked at again when its grace period ends lands a little after it, not a little before. */
const RECHECK_SLACK_MS = 250;

/**
 * Leader work around Pods: every Pod with a reservation or an endpoint goes through the
 * binder (bind, or release by the rules of reclamation), a Pod within its grace period is
 * looked at again when it ends, a Node that goes NotReady or away brings its Pods back, and
 * reservations that never became a Pod are collected once their lifetime has passed.
 */
export class PodBinding implements LeaderTask {
  private readonly queue: WorkQueue;
  private leading = false;
  /** Each term of leadership runs one chain of collector passes. */
  private term = 0;
  private gcTimer?: NodeJS.Timeout;

  constructor(private readonly d: PodBindingDeps) {
    this.queue = new WorkQueue("pods", async (key) => {
      const outcome = await d.binder.reconcile(key).catch((err: unknown) => {
        d.onFailure?.((err as { code?: string }).code ?? (err as Error).name ?? "Error");
        throw err;
      });
      if (outcome.requeueAfterMs !== undefined) this.queue.addAfter(key, outcome.requeueAfterMs + RECHECK_SLACK_MS);
    }, d.log, BINDER_CONCURRENCY);
    const onPod = (pod: PodLike): void => {
      if (this.leading && (pod.metadata.annotations?.[ANNO_ASSIGNED_IPS] || d.endpoints.get(pod.metadata.name ?? "", pod.metadata.namespace))) this.queue.add(podKey(pod));
    };
    d.pods.on("add", onPod);
    d.pods.on("update", onPod);
    d.pods.on("delete", (pod) => {
      if (pod.metadata.uid) d.deletedPods?.set(pod.metadata.uid, true);
      this.follow(podKey(pod));
    });
    for (const ev of ["add", "update", "delete"] as const) d.endpoints.on(ev, (ep) => this.follow(podKey(ep)));
    const ready = new Map<string, boolean>();
    d.nodes.on("add", (n) => {
      ready.set(n.metadata?.name ?? "", isNodeReady(n));
      d.deletedNodes.delete(n.metadata?.name ?? "");
    });
    d.nodes.on("update", (n) => {
      const name = n.metadata?.name ?? "";
      if (ready.get(name) !== isNodeReady(n)) this.followNode(name);
      ready.set(name, isNodeReady(n));
    });
    d.nodes.on("delete", (n) => {
      d.deletedNodes.add(n.metadata?.name ?? "");
      this.followNode(n.metadata?.name ?? "");
    });
  }

  private follow(key: string): void {
    if (this.leading) this.queue.add(key);
  }

  /** A Node changed Ready or went: its Pods and the endpoints recorded on it are judged again. */
  private followNode(node: string): void {
    if (!this.leading || !node) return;
    for (const ep of this.d.endpoints.list()) if (ep.status?.current?.node === node) this.queue.add(podKey(ep));
    for (const pod of this.d.pods.list()) if (pod.spec?.nodeName === node && this.d.endpoints.get(pod.metadata.name ?? "", pod.metadata.namespace)) this.queue.add(podKey(pod));
  }

  /** Every Pod with a reservation and every endpoint, through the binder again (at election and in each full scan). */
  resyncAll(): void {
    if (!this.leading) return;
    for (const pod of this.d.pods.list()) if (pod.metadata.annotations?.[ANNO_ASSIGNED_IPS]) this.queue.add(podKey(pod));
    for (const ep of this.d.endpoints.list()) this.queue.add(podKey(ep));
  }

  startLeading(): void {
    this.leading = true;
    const term = ++this.term;
    void Promise.all([this.d.pods.synced, this.d.endpoints.synced, this.d.pools.synced, this.d.nodes.synced]).then(() => {
      if (!this.leading || term !== this.term) return;
      this.resyncAll();
      this.scheduleCollector(term);
    });
  }

  /** One pass of the collector of expired reservations (also part of the full scan). */
  collectExpired(): Promise<number> {
    return collectExpiredReservations({
      pools: this.d.pools,
      podWithReservation: (id) => this.d.reservations.podWith(id),
      livePodsByReservation: this.d.livePodsByReservation,
      ...(this.d.refusedPodGraceMs !== undefined ? { refused: { graceMs: this.d.refusedPodGraceMs, ttlMs: this.d.reservationTtlMs } } : {}),
      ...(this.d.livePod ? { livePod: this.d.livePod } : {}),
      bind: (key) => this.queue.add(key),
      allocator: this.d.allocator,
      clock: this.d.clock,
      log: this.d.log,
      ...(this.d.onExpiredRelease ? { onRelease: this.d.onExpiredRelease } : {}),
    });
  }

  private scheduleCollector(term: number): void {
    const every = Math.max(1000, Math.floor(Math.min(this.d.reservationTtlMs / 4, (this.d.refusedPodGraceMs ?? Infinity) / 2)));
    this.gcTimer = setTimeout(() => {
      this.collectExpired()
        .catch((err: unknown) => this.d.log.error({ err }, "reservation collector failed"))
        .finally(() => {
          if (this.leading && term === this.term) this.scheduleCollector(term);
        });
    }, every);
  }

  stopLeading(): void {
    this.leading = false;
    if (this.gcTimer) clearTimeout(this.gcTimer);
  }

  settled(): Promise<void> {
    return this.queue.idle();
  }

  stop(): void {
    this.stopLeading();
    this.queue.stop();
  }
}
