import { ApiException, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { ConflictError } from "../ipam/ports.js";
import { isNotFound } from "./resources.js";

/** The entries of one claims object as read, with the version a write must name. */
export interface ClaimsRead {
  entries: Readonly<Record<string, string>>;
  /** undefined: the object does not exist yet (the write creates it). */
  resourceVersion?: string;
}

/**
 * A small ConfigMap written only with compare-and-swap: the one point where the controller's
 * replicas serialise a decision that no single pool or subnet can guard (two new objects
 * that must not overlap). A lost race is a ConflictError; the caller reads again.
 */
export class ConfigMapClaims {
  private readonly core: CoreV1Api;

  constructor(
    kc: KubeConfig,
    private readonly namespace: string,
    private readonly name: string,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async read(): Promise<ClaimsRead> {
    try {
      const cm = await this.core.readNamespacedConfigMap({ name: this.name, namespace: this.namespace });
      return { entries: cm.data ?? {}, resourceVersion: cm.metadata?.resourceVersion };
    } catch (err) {
      if (isNotFound(err)) return { entries: {} };
      throw err;
    }
  }

  /** Replaces the entries if the object is still at `read.resourceVersion` (creates it when it was absent). */
  async write(entries: Record<string, string>, read: ClaimsRead): Promise<void> {
    const metadata = { name: this.name, namespace: this.namespace, labels: { "app.kubernetes.io/part-of": "spiderpool" } };
    try {
      if (read.resourceVersion === undefined) await this.core.createNamespacedConfigMap({ namespace: this.namespace, body: { metadata, data: entries } });
      else await this.core.replaceNamespacedConfigMap({ name: this.name, namespace: this.namespace, body: { metadata: { ...metadata, resourceVersion: read.resourceVersion }, data: entries } });
    } catch (err) {
      if (err instanceof ApiException && err.code === 409) throw new ConflictError(`${this.namespace}/${this.name} changed meanwhile`);
      throw err;
    }
  }
}
