import { ApiException, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type KubernetesListObject } from "@kubernetes/client-node";
import { GROUP, VERSION } from "../ipam/kinds/meta.js";
import { ConflictError, type ObjectStore, type Preconditions } from "../ipam/ports.js";

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

function conflict(err: unknown): never {
  if (err instanceof ApiException && err.code === 409) throw new ConflictError(err.message);
  throw err;
}

interface Named {
  metadata: { name?: string; namespace?: string; resourceVersion?: string };
}

/**
 * Typed access to one Spiderpool custom resource. Writes carry the object's
 * resourceVersion, so the apiserver rejects them (ConflictError) when the object changed
 * since it was read: the compare-and-swap that allocation and reconcilers rest on.
 */
export class CustomResources<T extends Named> implements ObjectStore<T> {
  private readonly api: CustomObjectsApi;

  constructor(
    kc: KubeConfig,
    readonly plural: string,
    private readonly namespaced = false,
  ) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  get path(): string {
    return `/apis/${GROUP}/${VERSION}/${this.plural}`;
  }

  private base(namespace?: string): { group: string; version: string; plural: string; namespace: string } {
    return { group: GROUP, version: VERSION, plural: this.plural, namespace: namespace ?? "" };
  }

  async get(name: string, namespace?: string): Promise<T | undefined> {
    try {
      return (this.namespaced
        ? await this.api.getNamespacedCustomObject({ ...this.base(namespace), name })
        : await this.api.getClusterCustomObject({ group: GROUP, version: VERSION, plural: this.plural, name })) as T;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list(opts: { fieldSelector?: string } = {}): Promise<KubernetesListObject<T>> {
    return (await this.api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: this.plural, ...opts })) as KubernetesListObject<T>;
  }

  async create(obj: T): Promise<T> {
    try {
      return (this.namespaced
        ? await this.api.createNamespacedCustomObject({ ...this.base(obj.metadata.namespace), body: obj })
        : await this.api.createClusterCustomObject({ group: GROUP, version: VERSION, plural: this.plural, body: obj })) as T;
    } catch (err) {
      return conflict(err);
    }
  }

  /** Replaces the object (spec and metadata) if its resourceVersion is still current. */
  async replace(obj: T): Promise<T> {
    const name = obj.metadata.name ?? "";
    try {
      return (this.namespaced
        ? await this.api.replaceNamespacedCustomObject({ ...this.base(obj.metadata.namespace), name, body: obj })
        : await this.api.replaceClusterCustomObject({ group: GROUP, version: VERSION, plural: this.plural, name, body: obj })) as T;
    } catch (err) {
      return conflict(err);
    }
  }

  /** Replaces the status subresource if the object's resourceVersion is still current. */
  async replaceStatus(obj: T): Promise<T> {
    const name = obj.metadata.name ?? "";
    try {
      return (this.namespaced
        ? await this.api.replaceNamespacedCustomObjectStatus({ ...this.base(obj.metadata.namespace), name, body: obj })
        : await this.api.replaceClusterCustomObjectStatus({ group: GROUP, version: VERSION, plural: this.plural, name, body: obj })) as T;
    } catch (err) {
      return conflict(err);
    }
  }

  /** A JSON merge patch (no precondition unless the patch sets metadata.resourceVersion). */
  async mergePatch(name: string, patch: object, namespace?: string): Promise<T> {
    const opts = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
    try {
      return (this.namespaced
        ? await this.api.patchNamespacedCustomObject({ ...this.base(namespace), name, body: patch }, opts)
        : await this.api.patchClusterCustomObject({ group: GROUP, version: VERSION, plural: this.plural, name, body: patch }, opts)) as T;
    } catch (err) {
      return conflict(err);
    }
  }

  /** Deletes if the object still matches `preconditions` (ConflictError if not); one already gone is fine. */
  async delete(name: string, namespace: string | undefined, preconditions: Preconditions): Promise<void> {
    const body = { preconditions };
    try {
      if (this.namespaced) await this.api.deleteNamespacedCustomObject({ ...this.base(namespace), name, body });
      else await this.api.deleteClusterCustomObject({ group: GROUP, version: VERSION, plural: this.plural, name, body });
    } catch (err) {
      if (!isNotFound(err)) conflict(err);
    }
  }
}
