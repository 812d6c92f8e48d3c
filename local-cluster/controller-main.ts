// A local controller (local-cluster/controller.ts) as a process of its own, so that its
// memory is its own: the scenario runner reads its peak RSS from /proc.
//   node --import tsx local-cluster/controller-main.ts <kubeconfig> <prefix> [settings-json] [conf.yml]
// Prints one JSON line ({port, labels, namespace}) once it serves; stops on SIGTERM.
import { KubeConfig } from "@kubernetes/client-node";
import { startLocalController } from "./controller.js";

const [file = "", prefix = "scenario", settings = "{}", clusterConfig] = process.argv.slice(2);
const kc = new KubeConfig();
kc.loadFromFile(file);
const tc = await startLocalController(kc, { prefix, settings: JSON.parse(settings) as Record<string, string>, ...(clusterConfig ? { clusterConfig } : {}) });
process.stdout.write(`${JSON.stringify({ port: tc.controller.port, metricsPort: tc.controller.metricsPort, labels: tc.labels, namespace: tc.namespace })}\n`);
process.once("SIGTERM", () => {
  void tc.stop().finally(() => process.exit(0));
});
