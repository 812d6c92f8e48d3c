import type { ApplicationKind, Workload } from "../../ipam/kinds/application.js";
import { autoPoolOwner } from "../../ipam/kinds/auto-pool.js";
import type { SpiderIPPool } from "../../ipam/kinds/ippool.js";
import type { AutoPoolReconciler } from "../../ipam/lifecycle/auto-pool-reconcile.js";
import type { Log } from "../../ipam/ports.js";
import type { StartedInformer } from "../../k8s/informer.js";
import { QueuedLeaderTask } from "./queued-task.js";

export interface AutoPoolSyncDeps {
  pools: StartedInformer<SpiderIPPool>;
  applications: Record<ApplicationKind, StartedInformer<Workload>>;
  reconciler: AutoPoolReconciler;
  log: Log;
  /** A full pass this often: third-party owners have no informer, and events can be missed. */
  resyncMs: number;
}

/**
 * The leader task that keeps automatic pools the size of their applications: a pool is
 * looked at when it changes (its Pods took or released addresses), when its application
 * changes or goes, at leader start and on a periodic full pass; a pool whose answer depends
 * on time (idle, too young to judge) is looked at again when that time has passed.
 */
export class AutoPoolSync extends QueuedLeaderTask {
  /** Pool names by their application's uid, so an application's event finds its pools without a scan. */
  private readonly byApp = new Map<string, Set<string>>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly d: AutoPoolSyncDeps) {
    super(
      "auto-pools",
      async (name) => {
        const again = await d.reconciler.reconcile(name);
        if (again !== undefined && this.leading) this.queue.addAfter(name, again);
      },
      d.log,
    );
    d.pools.on("add", (p) => this.onPool(p));
    d.pools.on("update", (p) => this.onPool(p));
    d.pools.on("delete", (p) => this.forget(p));
    for (const informer of Object.values(d.applications)) {
      informer.on("update", (w) => this.onApplication(w));
      informer.on("delete", (w) => this.onApplication(w));
    }
    for (const p of d.pools.list()) this.index(p);
  }

  private index(p: SpiderIPPool): string | undefined {
    const owner = autoPoolOwner(p);
    if (!owner) return undefined;
    const names = this.byApp.get(owner.uid) ?? new Set<string>();
    names.add(p.metadata.name ?? "");
    this.byApp.set(owner.uid, names);
    return owner.uid;
  }

  private forget(p: SpiderIPPool): void {
    const owner = autoPoolOwner(p);
    if (owner) this.byApp.get(owner.uid)?.delete(p.metadata.name ?? "");
    this.follow(p.metadata.name ?? "");
  }

  private onPool(p: SpiderIPPool): void {
    if (this.index(p) !== undefined) this.follow(p.metadata.name ?? "");
  }

  private onApplication(w: Workload): void {
    for (const name of this.byApp.get(w.metadata.uid ?? "") ?? []) this.follow(name);
  }

  private all(): void {
    for (const p of this.d.pools.list()) if (autoPoolOwner(p)) this.queue.add(p.metadata.name ?? "");
  }

  startLeading(): void {
    this.leading = true;
    const informers = [this.d.pools, ...Object.values(this.d.applications)];
    void Promise.all(informers.map((i) => i.synced)).then(() => {
      if (!this.leading) return;
      this.all();
      // One timer whatever the order of starts and stops; at least a second apart (a zero
      // setting must not spin); never what keeps a stopping process alive.
      clearInterval(this.timer);
      this.timer = setInterval(() => this.all(), Math.max(1000, this.d.resyncMs));
      this.timer.unref();
    });
  }

  override stopLeading(): void {
    super.stopLeading();
    if (this.timer) clearInterval(this.timer);
  }
}
