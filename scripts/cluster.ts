// npm run cluster:up / cluster:down — the local control plane for trying things by hand.
import { FULL_CLUSTER, clusterDir, startCluster, stopCluster } from "../local-cluster/cluster.js";
import { ensureBinariesOrExit } from "../local-cluster/ensure-binaries.js";

const name = process.env.SPIDERPOOL_CLUSTER_NAME ?? "local";
const cmd = process.argv[2];
if (cmd === "up") {
  await ensureBinariesOrExit([...FULL_CLUSTER, "kubectl"]);
  const state = await startCluster(name, FULL_CLUSTER);
  console.log(`control plane "${name}" is up at ${state.server}`);
  console.log(`  export KUBECONFIG=${state.kubeconfig}`);
  console.log(`  logs: ${state.dir}/logs`);
} else if (cmd === "down") {
  await stopCluster(clusterDir(name));
  console.log(`control plane "${name}" stopped`);
} else {
  console.error("usage: tsx scripts/cluster.ts up|down");
  process.exit(2);
}
