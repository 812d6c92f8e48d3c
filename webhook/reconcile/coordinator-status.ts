import { NetworkingV1Api, type KubeConfig, type V1Node, type V1ServiceCIDR } from "@kubernetes/client-node";
import { isDeepStrictEqual } from "node:util";
import { COORDINATOR_PLURAL, coordinatorStatus, type SpiderCoordinator } from "../../ipam/kinds/coordinator.js";
import type { Log } from "../../ipam/ports.js";
import { startInformer, type StartedInformer } from "../../k8s/informer.js";
import { CustomResources } from "../../k8s/resources.js";
import { WorkQueue } from "../../runtime/work-queue.js";
import type { LeaderTask } from "./leader-task.js";

export interface CoordinatorStatusDeps {
  kc: KubeConfig;
  nodes: StartedInformer<V1Node>;
  log: Log;
}

/**
 * Keeps each SpiderCoordinator's status true to the cluster: `serviceCIDR` from the
 * ServiceCIDR objects (networking.k8s.io/v1, which kube-apiserver makes from
 * --service-cluster-ip-range), `overlayPodCIDR` from the Nodes' podCIDRs when podCIDRType
 * asks for them. Its two caches are its own: admission does not wait for them. Writes are
 * compare-and-swap on the cached object; a lost race is retried by the queue.
 */
export class CoordinatorStatusSync implements LeaderTask {
  private readonly coordinators: StartedInformer<SpiderCoordinator>;
  private readonly serviceCIDRs: StartedInformer<V1ServiceCIDR>;
  private readonly api: CustomResources<SpiderCoordinator>;
  private readonly queue: WorkQueue;
  private leading = false;

  constructor(private readonly d: CoordinatorStatusDeps) {
    this.api = new CustomResources<SpiderCoordinator>(d.kc, COORDINATOR_PLURAL);
    this.coordinators = startInformer(d.kc, { name: COORDINATOR_PLURAL, path: this.api.path, list: () => this.api.list(), log: d.log });
    const networking = d.kc.makeApiClient(NetworkingV1Api);
    this.serviceCIDRs = startInformer(d.kc, { name: "servicecidrs", path: "/apis/networking.k8s.io/v1/servicecidrs", list: () => networking.listServiceCIDR(), log: d.log });
    this.queue = new WorkQueue("coordinators", (name) => this.reconcile(name), d.log);
    for (const ev of ["add", "update", "delete"] as const) {
      this.coordinators.on(ev, (c) => this.enqueue(c.metadata.name));
      this.serviceCIDRs.on(ev, () => this.enqueueAll());
      d.nodes.on(ev, () => this.enqueueAll());
    }
  }

  private enqueue(name: string | undefined): void {
    if (this.leading && name) this.queue.add(name);
  }

  private enqueueAll(): void {
    for (const c of this.coordinators.list()) this.enqueue(c.metadata.name);
  }

  async reconcile(name: string): Promise<void> {
    const c = this.coordinators.get(name);
    if (!c || c.metadata.deletionTimestamp) return;
    const serviceCIDRs = this.serviceCIDRs.isSynced()
      ? this.serviceCIDRs.list().filter((s) => !s.metadata?.deletionTimestamp).flatMap((s) => s.spec?.cidrs ?? [])
      : undefined;
    const nodePodCIDRs = this.d.nodes.list().flatMap((n) => n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : []));
    const status = coordinatorStatus(c.spec, { serviceCIDRs, nodePodCIDRs });
    if (isDeepStrictEqual(status, c.status)) return;
    await this.api.replaceStatus({ ...c, status });
    this.d.log.info({ coordinator: name, phase: status.phase, serviceCIDR: status.serviceCIDR, reason: status.reason }, "coordinator status written");
  }

  startLeading(): void {
    this.leading = true;
    // The ServiceCIDR list may never come (an apiserver without the API): do not wait for it.
    void Promise.all([this.coordinators.synced, this.d.nodes.synced]).then(() => this.enqueueAll());
    void this.serviceCIDRs.synced.then(() => this.enqueueAll());
  }

  stopLeading(): void {
    this.leading = false;
  }

  settled(): Promise<void> {
    return this.queue.idle();
  }

  stop(): void {
    this.stopLeading();
    this.queue.stop();
    void this.coordinators.stop();
    void this.serviceCIDRs.stop();
  }
}
