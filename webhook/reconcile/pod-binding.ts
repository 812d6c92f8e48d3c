import { ANNO_ASSIGNED_IPS } from "../../ipam/annotations/keys.js";
import type { SpiderEndpoint } from "../../ipam/kinds/endpoint.js";
import type { SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { podKey, type PodLike } from "../../ipam/kinds/pod.js";
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
  binder: Binder;
  reservations: ReservationIndex;
  allocator: Allocator;
  clock: Clock;
  log: Log;
  /** How long a reservation may wait for its Pod; the collector runs four times per lifetime. */
  reservationTtlMs: number;
  onExpiredRelease?: (count: number) => void;
}

/**
 * Leader work around Pods: every Pod with a reservation or an endpoint goes through the
 * binder (bind, or release when the Pod is gone or finished), and reservations that never
 * became a Pod are collected once their lifetime has passed.
 */
export class PodBinding implements LeaderTask {
  private readonly queue: WorkQueue;
  private leading = false;
  private gcTimer?: NodeJS.Timeout;

  constructor(private readonly d: PodBindingDeps) {
    this.queue = new WorkQueue("pods", (key) => d.binder.reconcile(key), d.log, 4);
    const onPod = (pod: PodLike): void => {
      if (this.leading && (pod.metadata.annotations?.[ANNO_ASSIGNED_IPS] || d.endpoints.get(pod.metadata.name ?? "", pod.metadata.namespace))) this.queue.add(podKey(pod));
    };
    d.pods.on("add", onPod);
    d.pods.on("update", onPod);
    d.pods.on("delete", (pod) => this.follow(podKey(pod)));
    for (const ev of ["add", "update", "delete"] as const) d.endpoints.on(ev, (ep) => this.follow(podKey(ep)));
  }

  private follow(key: string): void {
    if (this.leading) this.queue.add(key);
  }

  startLeading(): void {
    this.leading = true;
    void Promise.all([this.d.pods.synced, this.d.endpoints.synced, this.d.pools.synced]).then(() => {
      if (!this.leading) return;
      for (const pod of this.d.pods.list()) if (pod.metadata.annotations?.[ANNO_ASSIGNED_IPS]) this.queue.add(podKey(pod));
      for (const ep of this.d.endpoints.list()) this.queue.add(podKey(ep));
      this.scheduleCollector();
    });
  }

  private scheduleCollector(): void {
    const every = Math.max(1000, Math.floor(this.d.reservationTtlMs / 4));
    this.gcTimer = setTimeout(() => {
      collectExpiredReservations({
        pools: this.d.pools,
        podWithReservation: (id) => this.d.reservations.podWith(id),
        bind: (key) => this.queue.add(key),
        allocator: this.d.allocator,
        clock: this.d.clock,
        log: this.d.log,
        ...(this.d.onExpiredRelease ? { onRelease: this.d.onExpiredRelease } : {}),
      })
        .catch((err: unknown) => this.d.log.error({ err }, "reservation collector failed"))
        .finally(() => {
          if (this.leading) this.scheduleCollector();
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
