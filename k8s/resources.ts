import { ApiException, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type KubernetesListObject } from "@kubernetes/client-node";
import { GROUP, VERSION } from "../ipam/kinds/meta.js";
import { ConflictError, type ObjectStore, type Preconditions } from "../ipam/ports.js";

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

/**
 * Whether the apiserver refused a write for what it carried (invalid, too large), rather than
 * failing any write (unreachable, overloaded): the pool writer then looks for the request at fault.
 */
export function isRefusedWrite(err: unknown): boolean {
  if (!(err instanceof ApiException)) return false;
  if (err.code === 400 || err.code === 413 || err.code === 422) return true;
  // etcd's own size limit reaches clients as a 500 with this text.
  return err.code === 500 && /too large/i.test(String(err.body ?? err.message));
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
    /** Another API group's kind (Multus's NetworkAttachmentDefinition); Spiderpool's by default. */
    private readonly gv: { group: string; version: string } = { group: GROUP, version: VERSION },
  ) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  get path(): string {
    return `/apis/${this.gv.group}/${this.gv.version}/${this.plural}`;
  }

  private base(namespace?: string): { group: string; version: string; plural: string; namespace: string } {
    return { ...this.gv, plural: this.plural, namespace: namespace ?? "" };
  }

  async get(name: string, namespace?: string): Promise<T | undefined> {
    try {
      return (this.namespaced
        ? await this.api.getNamespacedCustomObject({ ...this.base(namespace), name })
        : await this.api.getClusterCustomObject({ ...this.gv, plural: this.plural, name })) as T;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list(opts: { fieldSelector?: string } = {}): Promise<KubernetesListObject<T>> {
    return (await this.api.listClusterCustomObject({ ...this.gv, plural: this.plural, ...opts })) as KubernetesListObject<T>;
  }

  async create(obj: T): Promise<T> {
    try {
      return (this.namespaced
        ? await this.api.createNamespacedCustomObject({ ...this.base(obj.metadata.namespace), body: obj })
        : await this.api.createClusterCustomObject({ ...this.gv, plural: this.plural, body: obj })) as T;
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
        : await this.api.replaceClusterCustomObject({ ...this.gv, plural: this.plural, name, body: obj })) as T;
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
        : await this.api.replaceClusterCustomObjectStatus({ ...this.gv, plural: this.plural, name, body: obj })) as T;
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
        : await this.api.patchClusterCustomObject({ ...this.gv, plural: this.plural, name, body: patch }, opts)) as T;
    } catch (err) {
      return conflict(err);
    }
  }

  /** Deletes if the object still matches `preconditions` (ConflictError if not); one already gone is fine. */
  async delete(name: string, namespace: string | undefined, preconditions: Preconditions): Promise<void> {
    const body = { preconditions };
    try {
      if (this.namespaced) await this.api.deleteNamespacedCustomObject({ ...this.base(namespace), name, body });
      else await this.api.deleteClusterCustomObject({ ...this.gv, plural: this.plural, name, body });
    } catch (err) {
      if (!isNotFound(err)) conflict(err);
    }
  }
}
