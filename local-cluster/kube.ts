import {
  ApiException,
  ApiextensionsV1Api,
  type KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
} from "@kubernetes/client-node";
// Not re-exported by the package root; the path is stable across 1.x.
import { ObjectSerializer } from "@kubernetes/client-node/dist/serializer.js";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { poll } from "../ipam/retry.js";
import { systemClock } from "../runtime/clock.js";
import { REPO_ROOT } from "./binaries.js";
import { networkAttachmentDefinitionCrd } from "./multus-crd.js";

export function isStatus(err: unknown, code: number): boolean {
  return err instanceof ApiException && err.code === code;
}

/** The YAML documents of every file in crds/. */
export function crdManifests(): KubernetesObject[] {
  const dir = join(REPO_ROOT, "crds");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .flatMap((f) => yaml.loadAll(readFileSync(join(dir, f), "utf8")) as KubernetesObject[]);
}

/**
 * Turns a manifest (JSON field names) into client-node's model object. The client
 * serialises built-in kinds through its models, which silently drop fields they spell
 * differently (`enum`, `x-kubernetes-validations` in a CRD schema); custom kinds pass through.
 */
export function toModel(obj: KubernetesObject): KubernetesObject {
  const version = (obj.apiVersion ?? "").split("/").pop() ?? "";
  const type = `${version.charAt(0).toUpperCase()}${version.slice(1)}${obj.kind ?? ""}`;
  return ObjectSerializer.deserialize(obj, type) as KubernetesObject;
}

/** Server-side applies objects (idempotent). */
export async function apply(kc: KubeConfig, objects: KubernetesObject[], fieldManager = "spiderpool-local"): Promise<void> {
  const client = KubernetesObjectApi.makeApiClient(kc);
  for (const obj of objects) {
    await client.patch(toModel(obj), undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
    // Without kube-controller-manager (the integration tier) nobody creates a namespace's
    // default ServiceAccount, which Pod admission needs.
    if (obj.kind === "Namespace") await ensureDefaultServiceAccount(client, obj.metadata?.name ?? "");
  }
}

async function ensureDefaultServiceAccount(client: KubernetesObjectApi, namespace: string): Promise<void> {
  try {
    await client.create({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace } });
  } catch (err) {
    if (!isStatus(err, 409)) throw err;
  }
}

/** crds/ and, for a control plane without Multus, Multus's NetworkAttachmentDefinition CRD. */
export function localCrdManifests(): KubernetesObject[] {
  return [...crdManifests(), networkAttachmentDefinitionCrd()];
}

/** Applies crds/ (and Multus's CRD) and waits until the apiserver serves every kind. */
export async function applyCrds(kc: KubeConfig): Promise<void> {
  await apply(kc, localCrdManifests());
  await establishCrds(kc);
}

/** Waits until every CRD of `crds` (by default those applyCrds applies) is Established. */
export async function establishCrds(kc: KubeConfig, crds: KubernetesObject[] = localCrdManifests()): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const crd of crds) {
    const name = crd.metadata?.name ?? "";
    await waitFor(`CRD ${name} established`, async () => {
      const got = await api.readCustomResourceDefinition({ name });
      return got.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
    });
  }
}

/** Polls `check` until it returns a truthy value; fails naming `what` (and the last error) after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60000, everyMs = 200): Promise<T> {
  let last: unknown;
  const found = await poll(
    async () => {
      try {
        return (await check()) || undefined;
      } catch (err) {
        last = err;
        return undefined;
      }
    },
    { attempts: Number.MAX_SAFE_INTEGER, baseMs: everyMs, maxMs: everyMs, jitter: false, deadlineMs: timeoutMs },
    systemClock,
  );
  if (found) return found;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `; last error: ${last.message}` : ""}`);
}

/** A fresh namespace with a unique name (and its default ServiceAccount, which only kube-controller-manager would create). */
export async function createNamespace(kc: KubeConfig, prefix: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  const client = KubernetesObjectApi.makeApiClient(kc);
  await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels, annotations } });
  await ensureDefaultServiceAccount(client, name);
  return name;
}
