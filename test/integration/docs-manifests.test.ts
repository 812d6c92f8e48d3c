import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { REPO_ROOT } from "../harness/binaries.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { apply, applyCrds, testKubeConfig } from "../harness/kube.js";

/**
 * Every manifest under docs/examples is applied to the real apiserver through the
 * admission webhook (so it must pass validation) and read back.
 */
const dir = join(REPO_ROOT, "docs/examples");
const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));

/**
 * The mutating webhooks ran: Spiderpool kinds come back with ipVersion filled in, Pods with
 * their reserved addresses.
 */
function expectMutated(obj: KubernetesObject, got: KubernetesObject): void {
  if (obj.apiVersion?.startsWith("spiderpool.spidernet.io/")) expect((got as { spec?: { ipVersion?: number } }).spec?.ipVersion).toBeDefined();
  if (obj.kind === "Pod") expect(got.metadata?.annotations?.["ipam.spidernet.io/assigned-ips"]).toContain('"ipv4":"');
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
    }
  });
});
