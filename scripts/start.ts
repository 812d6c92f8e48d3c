// npm start — the main job on the embedded default: a local control plane on 127.0.0.1
// (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok), the CRDs, and the
// example objects of docs/quick-start.md. Runs until Ctrl-C, then stops everything;
// with --detach it leaves the control plane running (npm run cluster:down stops it).
import { KubeConfig } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import type { KubernetesObject } from "@kubernetes/client-node";
import { REPO_ROOT, findBinary } from "../test/harness/binaries.js";
import { FULL_CLUSTER, startCluster, stopCluster } from "../test/harness/cluster.js";
import { apply, crdManifests, establishCrds } from "../test/harness/kube.js";
import { execFileSync } from "node:child_process";

const detach = process.argv.includes("--detach");
const name = process.env.SPIDERPOOL_CLUSTER_NAME ?? "local";

console.log(`starting the local control plane "${name}" (${FULL_CLUSTER.join(", ")}) ...`);
const state = await startCluster(name, FULL_CLUSTER);
const kc = new KubeConfig();
kc.loadFromFile(state.kubeconfig);
await apply(kc, crdManifests());
await establishCrds(kc);
const example = yaml.loadAll(readFileSync(join(REPO_ROOT, "docs/examples/quick-start.yaml"), "utf8")) as KubernetesObject[];
await apply(kc, example);

const kubectl = findBinary("kubectl");
console.log(execFileSync(kubectl, ["get", "spiderippools"], { env: { ...process.env, KUBECONFIG: state.kubeconfig }, encoding: "utf8" }));
console.log(`KUBECONFIG=${state.kubeconfig}   logs: ${state.dir}/logs`);

if (detach) {
  console.log(`left running; stop it with: SPIDERPOOL_CLUSTER_NAME=${name} npm run cluster:down`);
} else {
  console.log("running; Ctrl-C stops the control plane");
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await stopCluster(state.dir);
  console.log("stopped");
}
