// Spiderpool's published scenario: the time until 100 Deployments × 10 Pods run, on a local
// control plane (etcd, kube-apiserver, kube-controller-manager and kube-scheduler with raised
// client QPS, kwok with 10 nodes), with the webhook (shared pool of exactly as many addresses,
// dual-stack, automatic pools, plenty, churn), under a webhook that answers at once and writes
// nothing (the floor of any webhook), under that webhook with one SpiderEndpoint create per
// placed Pod (floor-record: the floor of the design, whose controller writes that record), and
// without one; a markdown table at the end.
//   npm run bench:scenario -- [deployments=100] [replicas=10] [scenarios=all, comma-separated]
// A scenario may name controller settings to run with: pool-v4@SPIDERPOOL_RESERVATION_STOCK=0
// (several joined by '+'), so that a setting is compared side by side in one run.
import { pino } from "pino";
import { FULL_CLUSTER, startCluster, stopCluster } from "../local-cluster/cluster.js";
import { ensureBinariesOrExit } from "../local-cluster/ensure-binaries.js";
import { applyCrds } from "../local-cluster/kube.js";
import { adminKubeConfig } from "../local-cluster/kubeconfig.js";
import { runScenario, SCENARIO_TITLES, type ScenarioKind, type ScenarioResult } from "../local-cluster/scenario.js";
import { costsTable } from "../local-cluster/scenario-costs.js";
import { scenarioTable, scenarioTitle } from "../local-cluster/scenario-table.js";
import { scenarioNodes } from "../local-cluster/scenario-workload.js";

const deployments = Number(process.argv[2] ?? 100);
const replicas = Number(process.argv[3] ?? 10);
const ALL: ScenarioKind[] = ["baseline", "floor", "floor-record", "pool-v4", "pool-dual", "auto", "plenty", "churn"];
const chosen = (process.argv[4]?.split(",") ?? ALL).map((spec) => {
  const [kind = "", settings = ""] = spec.split("@");
  const pairs = settings.split("+").filter(Boolean);
  if (!(kind in SCENARIO_TITLES)) throw new Error(`unknown scenario '${kind}' in '${spec}': use one of ${Object.keys(SCENARIO_TITLES).join(", ")}`);
  for (const kv of pairs) if (!/^[A-Z0-9_]+=/.test(kv)) throw new Error(`setting '${kv}' in '${spec}' is not NAME=value (e.g. pool-v4@SPIDERPOOL_RESERVATION_STOCK=0)`);
  return { kind: kind as ScenarioKind, settings: Object.fromEntries(pairs.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])) };
});

await ensureBinariesOrExit(FULL_CLUSTER);
const state = await startCluster("bench-scenario", FULL_CLUSTER);
try {
  const kc = adminKubeConfig(state);
  await applyCrds(kc);
  await scenarioNodes(kc, "bench", 10);
  const log = pino({ level: "warn" });
  const run = { kc, kubeconfig: state.kubeconfig, nodes: "bench", deployments, replicas, timeoutMs: 30 * 60_000, log };
  console.log(`node ${process.version}; ${deployments} Deployments × ${replicas}; 10 kwok nodes`);
  // The first wave after the control plane starts runs slower (17.3 s against 11.0 s for the
  // same baseline later in one run): warm it up with one unmeasured baseline.
  const warm = await runScenario(run, "baseline");
  console.log(`warm-up (not in the table): ${JSON.stringify(warm)}`);
  const results: ScenarioResult[] = [];
  for (const { kind, settings } of chosen) {
    const r = await runScenario(run, kind, settings);
    console.log(`${kind}: ${JSON.stringify(r)}`);
    results.push(r);
  }
  console.log(`\n${scenarioTable(results)}`);
  const costed = results.flatMap((r) => (r.costs ? [{ title: scenarioTitle(r), costs: r.costs }] : []));
  console.log(`\n${costsTable(costed)}`);
} finally {
  await stopCluster(state.dir);
}
