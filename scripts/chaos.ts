// npm run chaos [-- --pods=2000 --waves=10 --kills=10]: the full-size chaos run of
// docs/reliability.md on a control plane of its own (built on first use, like npm start).
import { parseArgs } from "node:util";
import { pino } from "pino";
import { runChaos } from "../local-cluster/chaos.js";
import { FULL_CLUSTER, startCluster, stopCluster } from "../local-cluster/cluster.js";
import { ensureBinariesOrExit } from "../local-cluster/ensure-binaries.js";
import { adminKubeConfig } from "../local-cluster/kubeconfig.js";
import { applyCrds } from "../local-cluster/kube.js";

const { values } = parseArgs({ options: { pods: { type: "string", default: "2000" }, waves: { type: "string", default: "10" }, kills: { type: "string", default: "10" } } });
const log = pino({ level: process.env.SPIDERPOOL_LOG_LEVEL ?? "error" });
await ensureBinariesOrExit([...FULL_CLUSTER]);
const state = await startCluster(`chaos-${process.pid}`, FULL_CLUSTER);
try {
  const kc = adminKubeConfig(state);
  await applyCrds(kc);
  const result = await runChaos({ kc, state, pods: Number(values.pods), waves: Number(values.waves), kills: Number(values.kills), log });
  const { report, ...rest } = result;
  console.log(JSON.stringify({ ...rest, leaked: report.leaked, missing: report.missing, duplicates: report.duplicates }, null, 2));
  process.exitCode = report.leaked + report.missing + report.duplicates === 0 ? 0 : 1;
} finally {
  await stopCluster(state.dir);
}
