import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import yaml from "js-yaml";
import { helmTemplate } from "../../local-cluster/chart.js";
import { apply, applyCrds, createNamespace, establishCrds } from "../../local-cluster/kube.js";
import { monitoringCrds } from "../../local-cluster/monitoring-crds.js";
import { chartVariants } from "../harness/chart-variants.js";
import { kubectl, testKubeConfig } from "../harness/kube.js";

/**
 * `helm template` of the chart, with its defaults and with every optional part on, applied
 * with `kubectl apply --dry-run=server --validate=strict` to the real apiserver: every object
 * passes the apiserver's validation and admission (CEL of the admission policy included),
 * and no field is unknown. ServiceMonitor and PrometheusRule are checked against CRDs written
 * from the Prometheus Operator's API shape (local-cluster/monitoring-crds.ts).
 */
describe("the Helm chart against the real apiserver", () => {
  let kc: KubeConfig;
  let ns: string;
  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    await apply(kc, monitoringCrds());
    await establishCrds(kc, monitoringCrds());
    ns = await createNamespace(kc, "chart");
  });
  afterAll(async () => {
    await kc.makeApiClient(CoreV1Api).deleteNamespace({ name: ns }).catch(() => undefined);
  });

  it.each(chartVariants("chart", "chart"))("applies with a server-side dry run, strictly validated, with %s", async (name, render) => {
    const manifests = helmTemplate({ ...render, namespace: ns, includeCrds: true });
    const count = yaml.loadAll(manifests).filter(Boolean).length;
    const out = await kubectl(["apply", "--dry-run=server", "--validate=strict", "-f", "-"], manifests);
    expect(out.split("\n").filter((l) => l.endsWith("(server dry run)"))).toHaveLength(count);
    // The CRDs, ServiceAccounts, RBAC, policy, ConfigMap, workloads, Service, PDB, webhooks (and with every part on: Secret, monitoring).
    expect(count).toBeGreaterThanOrEqual(name === "default values" ? 20 : 26);
  });
});
