import { desiredNad, nadUpToDate } from "../../ipam/kinds/multus-config-nad.js";
import { MULTUS_CONFIG_KIND, type SpiderMultusConfig } from "../../ipam/kinds/multus-config.js";
import type { NetworkAttachmentDefinition } from "../../ipam/kinds/network-attachment.js";
import type { Log, ObjectStore } from "../../ipam/ports.js";
import type { StartedInformer } from "../../k8s/informer.js";
import { WorkQueue } from "../../runtime/work-queue.js";
import type { LeaderTask } from "./leader-task.js";

export interface MultusConfigDeps {
  multusConfigs: StartedInformer<SpiderMultusConfig>;
  nads: StartedInformer<NetworkAttachmentDefinition>;
  nadStore: ObjectStore<NetworkAttachmentDefinition>;
  log: Log;
}

const keyOf = (namespace: string | undefined, name: string | undefined): string => `${namespace ?? ""}/${name ?? ""}`;

/** The SpiderMultusConfig that controls a NAD (its controller owner reference), if any. */
function controllerOf(nad: NetworkAttachmentDefinition): { name: string; uid: string } | undefined {
  const ref = nad.metadata.ownerReferences?.find((r) => r.kind === MULTUS_CONFIG_KIND && r.controller === true);
  return ref ? { name: ref.name, uid: ref.uid } : undefined;
}

/**
 * Makes and keeps each SpiderMultusConfig's NetworkAttachmentDefinition: created when missing
 * (also after someone deletes it), rewritten when it differs from what the spec generates
 * (also after someone edits it), deleted when its SpiderMultusConfig is gone. The owner
 * reference also lets the garbage collector delete it; deleting it here makes that prompt
 * and works without kube-controller-manager. Writes are compare-and-swap (replace with the
 * resourceVersion read, delete with the uid judged), so a lost race is retried by the queue.
 */
export class MultusConfigSync implements LeaderTask {
  private readonly queue: WorkQueue;
  private leading = false;

  constructor(private readonly d: MultusConfigDeps) {
    this.queue = new WorkQueue("multus-configs", (key) => this.reconcile(key), d.log);
    for (const ev of ["add", "update", "delete"] as const) {
      d.multusConfigs.on(ev, (smc) => this.enqueue(keyOf(smc.metadata.namespace, smc.metadata.name)));
      d.nads.on(ev, (nad) => this.onNad(nad));
    }
  }

  private enqueue(key: string): void {
    if (this.leading) this.queue.add(key);
  }

  private onNad(nad: NetworkAttachmentDefinition): void {
    const owner = controllerOf(nad);
    if (owner) this.enqueue(keyOf(nad.metadata.namespace, owner.name));
  }

  async reconcile(key: string): Promise<void> {
    const [namespace = "", name = ""] = key.split("/", 2);
    const smc = this.d.multusConfigs.get(name, namespace);
    if (!smc || smc.metadata.deletionTimestamp) return this.deleteOwned(namespace, name);
    const want = desiredNad(smc);
    const wantName = want.metadata.name ?? "";
    const have = this.d.nads.get(wantName, namespace) ?? (await this.d.nadStore.get(wantName, namespace));
    const log = this.d.log.child({ multusConfig: key, nad: keyOf(namespace, wantName) });
    if (!have) {
      await this.d.nadStore.create(want);
      log.info({}, "NetworkAttachmentDefinition created");
      return;
    }
    if (nadUpToDate(have, want)) return;
    // Someone else's controller reference gives way to ours (Spiderpool takes a NAD of its name over).
    const others = (have.metadata.ownerReferences ?? []).filter((r) => r.controller !== true);
    await this.d.nadStore.replace({
      ...have,
      metadata: { ...have.metadata, annotations: want.metadata.annotations ?? {}, ownerReferences: [...others, ...(want.metadata.ownerReferences ?? [])] },
      spec: want.spec ?? {},
    });
    log.info({}, "NetworkAttachmentDefinition updated to its SpiderMultusConfig");
  }

  /** Deletes the NADs in `namespace` that a SpiderMultusConfig `name` controlled, each only if it is still the one judged. */
  private async deleteOwned(namespace: string, name: string): Promise<void> {
    for (const nad of this.d.nads.list(namespace)) {
      if (controllerOf(nad)?.name !== name) continue;
      await this.d.nadStore.delete(nad.metadata.name ?? "", namespace, { uid: nad.metadata.uid });
      this.d.log.info({ multusConfig: keyOf(namespace, name), nad: keyOf(namespace, nad.metadata.name) }, "SpiderMultusConfig gone; its NetworkAttachmentDefinition deleted");
    }
  }

  startLeading(): void {
    this.leading = true;
    void Promise.all([this.d.multusConfigs.synced, this.d.nads.synced]).then(() => {
      if (!this.leading) return;
      for (const smc of this.d.multusConfigs.list()) this.enqueue(keyOf(smc.metadata.namespace, smc.metadata.name));
      for (const nad of this.d.nads.list()) this.onNad(nad);
    });
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
  }
}
