import {
  AdmissionregistrationV1Api,
  ApiException,
  CoreV1Api,
  type KubeConfig,
  type V1Secret,
} from "@kubernetes/client-node";
import { ConflictError } from "../ipam/ports.js";
import type { CaBundleTarget, SecretStore, StoredSecret } from "./manager.js";

function decode(secret: V1Secret): StoredSecret {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) data[k] = Buffer.from(v, "base64").toString("utf8");
  return { data, resourceVersion: secret.metadata?.resourceVersion ?? "" };
}

function encode(data: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
}

function conflictOr(err: unknown, what: string): never {
  if (err instanceof ApiException && err.code === 409) throw new ConflictError(`${what}: ${err.message}`);
  throw err;
}

/** The certificate Secret, read and written with resourceVersion preconditions. */
export function secretStore(kc: KubeConfig, namespace: string, name: string): SecretStore {
  const api = kc.makeApiClient(CoreV1Api);
  const body = (data: Record<string, string>, resourceVersion?: string): V1Secret => ({
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: { name, namespace, resourceVersion, labels: { "app.kubernetes.io/part-of": "spiderpool" } },
    data: encode(data),
  });
  return {
    async get() {
      try {
        return decode(await api.readNamespacedSecret({ name, namespace }));
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw err;
      }
    },
    async create(data) {
      try {
        return decode(await api.createNamespacedSecret({ namespace, body: body(data) }));
      } catch (err) {
        return conflictOr(err, `secret ${namespace}/${name} was created by someone else`);
      }
    },
    async update(data, resourceVersion) {
      try {
        return decode(await api.replaceNamespacedSecret({ name, namespace, body: body(data, resourceVersion) }));
      } catch (err) {
        return conflictOr(err, `secret ${namespace}/${name} changed meanwhile`);
      }
    },
  };
}

/**
 * Publishes the CA bundle in every webhook of the named Mutating/ValidatingWebhookConfigurations.
 * A configuration that does not exist yet is skipped (the next reconcile finds it).
 */
export function webhookCaBundleTarget(kc: KubeConfig, names: { mutating: readonly string[]; validating: readonly string[] }): CaBundleTarget {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  async function retryOnConflict(fn: () => Promise<void>): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof ApiException) || err.code !== 409 || i >= 5) throw err;
      }
    }
  }
  const notFound = (err: unknown): undefined => {
    if (err instanceof ApiException && err.code === 404) return undefined;
    throw err;
  };
  type Config = { webhooks?: { clientConfig: { caBundle?: string } }[] };
  async function publish<T extends Config>(name: string, caBundle: string, read: () => Promise<T>, replace: (body: T) => Promise<unknown>): Promise<void> {
    await retryOnConflict(async () => {
      const cfg = await read().catch(notFound);
      if (!cfg || (cfg.webhooks ?? []).every((w) => w.clientConfig.caBundle === caBundle)) return;
      for (const w of cfg.webhooks ?? []) w.clientConfig.caBundle = caBundle;
      await replace(cfg);
    });
  }
  return {
    async inject(caBundlePem) {
      const caBundle = Buffer.from(caBundlePem).toString("base64");
      for (const name of names.mutating) {
        await publish(name, caBundle, () => api.readMutatingWebhookConfiguration({ name }), (body) => api.replaceMutatingWebhookConfiguration({ name, body }));
      }
      for (const name of names.validating) {
        await publish(name, caBundle, () => api.readValidatingWebhookConfiguration({ name }), (body) => api.replaceValidatingWebhookConfiguration({ name, body }));
      }
    },
  };
}
