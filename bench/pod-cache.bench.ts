// The controller's memory per Pod: a Pod informer holding N Running Pods, kept in full (as
// before issue 16) and trimmed (k8s/trim.ts), measured side by side in one run, each in a
// process of its own, alternating.
//   npx tsx bench/pod-cache.bench.ts [pods=1000] [rounds=3]
import { CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "../local-cluster/binaries.js";
import { CONTROL_PLANE, startCluster, stopCluster } from "../local-cluster/cluster.js";
import { ensureBinariesOrExit } from "../local-cluster/ensure-binaries.js";
import { createNamespace } from "../local-cluster/kube.js";
import { adminKubeConfig } from "../local-cluster/kubeconfig.js";
import { median, parallel } from "./measure.js";

const total = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 3);

/** A Deployment's replica as it looks Running on a node: what kubelet (or kwok) and the apiserver add included. */
function runningPod(i: number): V1Pod {
  return {
    metadata: {
      name: `web-${i}`,
      labels: { app: "web", "pod-template-hash": "6d4cf56db6" },
      annotations: { "ipam.spidernet.io/assigned-ips": `[{"interface":"eth0","ipv4":"10.6.${i >> 8}.${i & 255}/16","ipv4Pool":"bench","reservation":"r${i}"}]` },
    },
    spec: {
      nodeName: `node-${i % 10}`,
      containers: [
        {
          name: "web",
          image: "registry.example/web:1.2.3",
          ports: [{ containerPort: 8080, name: "http" }],
          env: [{ name: "LOG_LEVEL", value: "info" }, { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
          resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
          readinessProbe: { httpGet: { path: "/ready", port: 8080 }, periodSeconds: 5 },
        },
      ],
    },
  };
}

function runningStatus(i: number): V1Pod["status"] {
  const at = new Date();
  const condition = (type: string) => ({ type, status: "True", lastTransitionTime: at });
  return {
    phase: "Running",
    hostIP: `192.168.0.${i % 10}`,
    podIP: `10.6.${i >> 8}.${i & 255}`,
    podIPs: [{ ip: `10.6.${i >> 8}.${i & 255}` }],
    startTime: at,
    conditions: ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map(condition),
    containerStatuses: [{ name: "web", ready: true, started: true, restartCount: 0, image: "registry.example/web:1.2.3", imageID: `registry.example/web@sha256:${"ab".repeat(32)}`, containerID: `containerd://${"cd".repeat(32)}`, state: { running: { startedAt: at } } }],
  };
}

async function createRunningPods(kc: KubeConfig, ns: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await parallel(total, 20, async (i) => {
    const pod = await core.createNamespacedPod({ namespace: ns, body: runningPod(i) });
    await core.replaceNamespacedPodStatus({ name: pod.metadata?.name ?? "", namespace: ns, body: { ...pod, status: runningStatus(i) } });
  });
}

function measure(kubeconfig: string, mode: "full" | "trimmed"): { pods: number; rss: number; heap: number } {
  const out = execFileSync(process.execPath, ["--expose-gc", "--import", "tsx", join(REPO_ROOT, "bench/pod-cache-child.ts"), kubeconfig, mode], { cwd: REPO_ROOT, encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as { pods: number; rss: number; heap: number };
}

await ensureBinariesOrExit(CONTROL_PLANE);
const state = await startCluster("bench-pod-cache", CONTROL_PLANE);
try {
  const kc = adminKubeConfig(state);
  const ns = await createNamespace(kc, "bench-pods");
  await createRunningPods(kc, ns);
  const runs: Record<"full" | "trimmed", { rss: number[]; heap: number[] }> = { full: { rss: [], heap: [] }, trimmed: { rss: [], heap: [] } };
  for (let r = 0; r < rounds; r++) {
    for (const mode of ["full", "trimmed"] as const) {
      const m = measure(state.kubeconfig, mode);
      if (m.pods !== total) throw new Error(`the ${mode} cache holds ${m.pods} Pods, not ${total}`);
      runs[mode].rss.push(m.rss);
      runs[mode].heap.push(m.heap);
    }
  }
  const mib = (bytes: number): string => `${((bytes * 1000) / total / 2 ** 20).toFixed(2)} MiB`;
  const full = { rss: median(runs.full.rss), heap: median(runs.full.heap) };
  const trimmed = { rss: median(runs.trimmed.rss), heap: median(runs.trimmed.heap) };
  console.log(`node ${process.version}; ${total} Running Pods, ${rounds} rounds, medians, per 1,000 Pods\n`);
  console.log("| Pod cache | RSS per 1,000 Pods | heap per 1,000 Pods |");
  console.log("| --- | --- | --- |");
  console.log(`| full objects (before) | ${mib(full.rss)} | ${mib(full.heap)} |`);
  console.log(`| trimmed (k8s/trim.ts) | ${mib(trimmed.rss)} | ${mib(trimmed.heap)} |`);
  console.log(`| ratio trimmed / full | ${(trimmed.rss / full.rss).toFixed(2)} | ${(trimmed.heap / full.heap).toFixed(2)} |`);
} finally {
  await stopCluster(state.dir);
}
