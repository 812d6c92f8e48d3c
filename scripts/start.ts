// npm start — the main job on the embedded default: a local control plane on 127.0.0.1
// (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok), the CRDs,
// spiderpool-controller with its webhooks registered, the pools of docs/quick-start.md and
// a demo Deployment whose Pods get their addresses at admission. Runs until Ctrl-C, then
// stops everything. --detach leaves it all running (npm run cluster:down stops the
// control plane); --exit stops as soon as the demo is shown (used by a test).
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api, type KubernetesObject } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { parseControllerConfig } from "../webhook/config.js";
import { startController } from "../webhook/wiring.js";
import { REPO_ROOT } from "../local-cluster/binaries.js";
import { ensureBinariesOrExit } from "../local-cluster/ensure-binaries.js";
import { FULL_CLUSTER, KWOK_NODE_ANNOTATION, startCluster, stopCluster } from "../local-cluster/cluster.js";
import { apply, applyCrds, waitFor } from "../local-cluster/kube.js";
import { adminKubeConfig } from "../local-cluster/kubeconfig.js";
import { kubectl } from "../local-cluster/kubectl.js";
import { freePort } from "../local-cluster/processes.js";
import { admissionClientFiles } from "../local-cluster/pki.js";

const detach = process.argv.includes("--detach");
const exitAfterDemo = process.argv.includes("--exit");
const name = process.env.SPIDERPOOL_CLUSTER_NAME ?? "local";

// Whatever is not on PATH or in the cache is built first (once; it takes a while).
await ensureBinariesOrExit([...FULL_CLUSTER, "kubectl"]);
console.log(`starting the local control plane "${name}" (${FULL_CLUSTER.join(", ")}) ...`);
const state = await startCluster(name, FULL_CLUSTER);
const kc = adminKubeConfig(state);
const core = kc.makeApiClient(CoreV1Api);
await applyCrds(kc);

const namespace = "spiderpool";
await apply(kc, [{ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }]);
const port = await freePort();
// The controller registers its own webhooks, reached at this URL (no Service locally).
const config = parseControllerConfig(
  {
    SPIDERPOOL_NAMESPACE: namespace,
    SPIDERPOOL_WEBHOOK_HOST: "127.0.0.1",
    SPIDERPOOL_WEBHOOK_PORT: String(port),
    SPIDERPOOL_WEBHOOK_URL: `https://127.0.0.1:${port}`,
    SPIDERPOOL_TLS_EXTRA_IPS: "127.0.0.1",
    SPIDERPOOL_LOG_LEVEL: "warn",
    SPIDERPOOL_SYSTEM_USERS: "local-admin",
    // Only this control plane's apiserver may call the webhooks; metrics and probes on a port of their own.
    SPIDERPOOL_ADMISSION_CLIENT_CA_FILE: admissionClientFiles(join(state.dir, "pki")).admissionClientCa,
    SPIDERPOOL_METRICS_PORT: "0",
  },
  [],
);
const controller = await startController(config, { kubeConfig: kc });
const admission = kc.makeApiClient(AdmissionregistrationV1Api);
console.log(`spiderpool-controller serving admission on https://127.0.0.1:${controller.port}`);

const example = yaml.loadAll(readFileSync(join(REPO_ROOT, "docs/examples/quick-start.yaml"), "utf8")) as KubernetesObject[];
// The first writes may meet the apiserver before it trusts the new CA: retry briefly.
await waitFor("the quick-start pools admitted", async () => {
  await apply(kc, example);
  return true;
});

await core.createNode({ body: { metadata: { name: "kwok-node-1", annotations: { [KWOK_NODE_ANNOTATION]: "fake" } } } }).catch(() => undefined);
await apply(kc, [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "demo" } }]);
await kc
  .makeApiClient(AppsV1Api)
  .createNamespacedDeployment({
    namespace: "demo",
    body: {
      metadata: { name: "web" },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "registry.example/web:1" }] } },
      },
    },
  })
  .catch(() => undefined);
await waitFor("3 demo pods with addresses", async () => {
  const pods = (await core.listNamespacedPod({ namespace: "demo" })).items;
  return pods.filter((p) => p.metadata?.annotations?.["ipam.spidernet.io/assigned-ips"]).length >= 3;
}, 120000);
await controller.settled();

const show = (...args: string[]): Promise<string> => kubectl(state.kubeconfig, args);
console.log(await show("get", "spiderippools"));
console.log(await show("get", "pods", "-n", "demo", "-o", "custom-columns=POD:.metadata.name,NODE:.spec.nodeName,ASSIGNED-IPS:.metadata.annotations.ipam\\.spidernet\\.io/assigned-ips"));
console.log(await show("get", "spiderendpoints", "-n", "demo"));
console.log(`KUBECONFIG=${state.kubeconfig}   logs: ${state.dir}/logs`);

const shutdown = async (): Promise<void> => {
  await controller.close();
  await stopCluster(state.dir);
  console.log("stopped");
};
if (exitAfterDemo) {
  await shutdown();
} else if (detach) {
  console.log(`left running without the controller; stop it with: SPIDERPOOL_CLUSTER_NAME=${name} npm run cluster:down`);
  await controller.close();
  await admission.deleteMutatingWebhookConfiguration({ name: "spiderpool-mutating" });
  await admission.deleteValidatingWebhookConfiguration({ name: "spiderpool-validating" });
} else {
  console.log("running; try kubectl scale -n demo deploy/web --replicas=5; Ctrl-C stops everything");
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await shutdown();
}
