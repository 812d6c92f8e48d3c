// One measurement for bench/pod-cache.bench.ts, in a process of its own: the memory a Pod
// informer adds once it holds every Pod, kept in full (as before issue 16) or trimmed.
//   node --expose-gc --import tsx bench/pod-cache-child.ts <kubeconfig> full|trimmed
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import type { PodLike } from "../ipam/kinds/pod.js";
import { startInformer } from "../k8s/informer.js";
import { trimPod } from "../k8s/trim.js";

const [file = "", mode = "trimmed"] = process.argv.slice(2);
const settle = async (): Promise<NodeJS.MemoryUsage> => {
  for (let i = 0; i < 3; i++) {
    global.gc?.();
    await new Promise((r) => setTimeout(r, 100));
  }
  return process.memoryUsage();
};
const kc = new KubeConfig();
kc.loadFromFile(file);
const core = kc.makeApiClient(CoreV1Api);
const quiet = pino({ level: "error" });
// Load the modules and open a connection first, so that the figure is the cache alone.
await core.listNamespace();
const before = await settle();
const informer = startInformer<PodLike>(kc, { name: "pods", path: "/api/v1/pods", list: async () => (await core.listPodForAllNamespaces()) as never, log: quiet, ...(mode === "trimmed" ? { trim: trimPod } : {}) });
await informer.synced;
const after = await settle();
process.stdout.write(`${JSON.stringify({ pods: informer.list().length, rss: after.rss - before.rss, heap: after.heapUsed - before.heapUsed })}\n`);
await informer.stop();
process.exit(0);
