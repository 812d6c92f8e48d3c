import type { Workload } from "../../ipam/kinds/application.js";
import type { SpiderEndpoint } from "../../ipam/kinds/endpoint.js";
import { podKey } from "../../ipam/kinds/pod.js";
import type { Binder } from "../../ipam/lifecycle/binder.js";
import { statefulSetOwnerOf } from "../../ipam/lifecycle/statefulset.js";
import type { Log } from "../../ipam/ports.js";
import type { StartedInformer } from "../../k8s/informer.js";
import { QueuedLeaderTask } from "./queued-task.js";

export interface StatefulSetOrdinalsDeps {
  statefulSets: StartedInformer<Workload>;
  endpoints: StartedInformer<SpiderEndpoint>;
  binder: Pick<Binder, "reconcile">;
  log: Log;
}

/**
 * The leader task that releases the addresses of ordinals a StatefulSet no longer wants: when
 * a StatefulSet is scaled down (or its ordinals move, or it goes), each endpoint it owns goes
 * back through the binder, which releases those whose Pod is gone and whose ordinal is not
 * wanted. (A Pod deleted after the scale-down reaches the binder through its own event.)
 */
export class StatefulSetOrdinals extends QueuedLeaderTask {
  constructor(private readonly d: StatefulSetOrdinalsDeps) {
    super("statefulset-ordinals", async (key) => {
      await d.binder.reconcile(key);
    }, d.log);
    d.statefulSets.on("update", (sts) => this.onStatefulSet(sts));
    d.statefulSets.on("delete", (sts) => this.onStatefulSet(sts));
  }

  private onStatefulSet(sts: Workload): void {
    for (const ep of this.d.endpoints.list(sts.metadata.namespace)) {
      if (statefulSetOwnerOf(ep)?.uid === sts.metadata.uid) this.follow(podKey(ep));
    }
  }

  startLeading(): void {
    // A new leader's binder pass (PodBinding) already goes through every endpoint.
    this.leading = true;
  }
}
