import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { ANNO_ASSIGNED_IPS, ANNO_SUBNET } from "../../ipam/annotations/keys.js";
import { isApplicationKind, podTemplateOf, type Workload } from "../../ipam/kinds/application.js";
import { autoPoolOwner } from "../../ipam/kinds/auto-pool.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { CustomResources } from "../../k8s/resources.js";
import { POOL_FINALIZER } from "../../ipam/kinds/ippool-admission.js";
import { REPO_ROOT } from "../../local-cluster/binaries.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { apply, applyCrds } from "../../local-cluster/kube.js";
import { testKubeConfig } from "../harness/kube.js";

/**
 * Every manifest under docs/examples is applied to the real apiserver through the
 * admission webhook (so it must pass validation) and read back.
 */
const dir = join(REPO_ROOT, "docs/examples");
const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));

const spec = (o: KubernetesObject): { ipVersion?: number } => (o as { spec?: { ipVersion?: number } }).spec ?? {};

/**
 * What the mutating webhooks write, per kind; the CRDs default nothing, so the apiserver
 * alone leaves these unset. For each object, the ones its manifest leaves out must be set
 * after the apply: that is what shows the webhook ran on it.
 */
const WEBHOOK_WRITES: Record<string, Record<string, (o: KubernetesObject) => unknown>> = {
  SpiderIPPool: {
    "metadata.finalizers": (o) => (o.metadata?.finalizers?.includes(POOL_FINALIZER) ? POOL_FINALIZER : undefined),
    "spec.ipVersion": (o) => spec(o).ipVersion,
  },
  SpiderSubnet: { "spec.ipVersion": (o) => spec(o).ipVersion },
  SpiderReservedIP: { "spec.ipVersion": (o) => spec(o).ipVersion },
  SpiderMultusConfig: { "spec.enableCoordinator": (o) => (o as { spec?: { enableCoordinator?: boolean } }).spec?.enableCoordinator },
  // No webhook for this one: its CRD's schema validates and defaults it, so the check is
  // that the apiserver's defaulting ran.
  SpiderCoordinator: { "spec.hostRPFilter": (o) => (o as { spec?: { hostRPFilter?: number } }).spec?.hostRPFilter },
  Pod: { [`metadata.annotations.${ANNO_ASSIGNED_IPS}`]: (o) => o.metadata?.annotations?.[ANNO_ASSIGNED_IPS] },
};

/** The webhook-written fields `file` leaves out, with their values in `got`. */
function writtenByWebhook(file: KubernetesObject, got: KubernetesObject): Record<string, unknown> {
  const fields = Object.entries(WEBHOOK_WRITES[file.kind ?? ""] ?? {}).filter(([, of]) => of(file) === undefined);
  return Object.fromEntries(fields.map(([field, of]) => [field, of(got)]));
}

/** The mutating webhooks ran on `got`: what they write and its file left out is there. */
function expectMutated(file: KubernetesObject, got: KubernetesObject): void {
  if (file.apiVersion?.startsWith("spiderpool.spidernet.io/")) expect(Object.keys(WEBHOOK_WRITES)).toContain(file.kind);
  if (WEBHOOK_WRITES[file.kind ?? ""]) {
    const written = writtenByWebhook(file, got);
    expect(Object.keys(written)).not.toEqual([]);
    for (const [field, value] of Object.entries(written)) expect({ [field]: value }).toEqual({ [field]: expect.anything() });
  }
  if (file.kind === "Pod") expect(got.metadata?.annotations?.[ANNO_ASSIGNED_IPS]).toContain('"ipv4":"');
}

/** An application naming a subnet has its automatic pool, sized when it was admitted: what shows the applications' webhook ran. */
async function expectAutoPool(kc: KubeConfig, got: KubernetesObject): Promise<void> {
  const w = got as Workload;
  if (!isApplicationKind(got.kind ?? "") || !podTemplateOf(w)?.metadata?.annotations?.[ANNO_SUBNET]) return;
  const pools = (await new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL).list()).items.filter((p) => autoPoolOwner(p)?.uid === got.metadata?.uid);
  expect(pools.map((p) => p.metadata.labels?.["ipam.spidernet.io/owner-application-kind"])).toEqual([got.kind]);
  expect(pools[0]?.spec.ips?.length).toBeGreaterThan(0);
}

describe("docs/examples manifests", () => {
  let kc: KubeConfig;
  let tc: TestController;
  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "docs");
  });
  afterAll(() => tc.stop());

  it.each(files)("%s applies", async (file) => {
    const objects = (yaml.loadAll(readFileSync(join(dir, file), "utf8")) as KubernetesObject[]).filter(Boolean);
    expect(objects.length).toBeGreaterThan(0);
    // Put them under this run's webhooks.
    for (const o of objects) o.metadata = { ...o.metadata, labels: { ...o.metadata?.labels, ...tc.labels } };
    await apply(kc, objects);
    const client = KubernetesObjectApi.makeApiClient(kc);
    for (const obj of objects) {
      const got = await client.read({ apiVersion: obj.apiVersion ?? "", kind: obj.kind ?? "", metadata: { name: obj.metadata?.name ?? "", namespace: obj.metadata?.namespace } });
      expect(got.metadata?.uid).toBeTruthy();
      expectMutated(obj, got);
      await expectAutoPool(kc, got);
    }
  });
});
