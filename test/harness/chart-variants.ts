import { join } from "node:path";
import { createCA, issueCertificate } from "../../certs/pki.js";
import { CHART_DIR, type ChartRender } from "../../local-cluster/chart.js";

/**
 * The two ways the chart is checked (helm lint, helm template, a server-side dry run): with
 * its default values, and with every optional part switched on (ci/all-on-values.yaml, plus
 * operator-supplied certificates, which need real PEM to render).
 */
export function chartVariants(release: string, namespace: string): [string, ChartRender][] {
  const ca = createCA("spiderpool-chart-test-ca");
  const serving = issueCertificate(ca, { commonName: `${release}-spiderpool-controller.${namespace}.svc`, dnsNames: [`${release}-spiderpool-controller.${namespace}.svc`], usage: "server" });
  const provided = { tls: { method: "provided", provided: { caCert: ca.certPem, caKey: ca.keyPem, cert: serving.certPem, key: serving.keyPem } } };
  return [
    ["default values", { release, namespace }],
    ["every optional part on", { release, namespace, valuesFiles: [join(CHART_DIR, "ci/all-on-values.yaml")], values: provided }],
  ];
}
