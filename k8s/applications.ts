import { KubernetesObjectApi, type KubeConfig } from "@kubernetes/client-node";
import { APPLICATION_KINDS, isApplicationKind, type ApplicationKind, type ObjectRef, type Workload } from "../ipam/kinds/application.js";
import type { ApplicationDirectory, Cache } from "../ipam/ports.js";
import { isNotFound } from "./resources.js";

/**
 * Applications as the controller reads them: from its informers for the kinds it watches
 * (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob), and through discovery for
 * anything else that owns Pods (a third-party controller's custom resource). A cache miss is
 * read live: a ReplicaSet made a moment ago may not have reached the informer yet.
 */
export class KubeApplications implements ApplicationDirectory {
  private readonly objects: KubernetesObjectApi;

  constructor(
    kc: KubeConfig,
    private readonly caches: Partial<Record<ApplicationKind, Cache<Workload>>>,
  ) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
  }

  async get(ref: ObjectRef): Promise<Workload | undefined> {
    const cache = isApplicationKind(ref.kind) && APPLICATION_KINDS[ref.kind].apiVersion === ref.apiVersion ? this.caches[ref.kind] : undefined;
    return cache?.get(ref.name, ref.namespace) ?? this.read(ref);
  }

  async read(ref: ObjectRef): Promise<Workload | undefined> {
    try {
      return (await this.objects.read({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } })) as Workload;
    } catch (err) {
      // Not found: the object, or (for a custom resource) its whole kind, is gone.
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
