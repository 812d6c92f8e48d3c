// The detached process behind `npm start` (see local-cluster/system.ts): two controller
// replicas and two simulated nodes against the control plane whose state directory is the
// argument. SIGTERM or SIGINT stops them and removes their namespaces and links.
import { readState } from "../local-cluster/cluster.js";
import { adminKubeConfig } from "../local-cluster/kubeconfig.js";
import { runLocalSystem } from "../local-cluster/system.js";
import { createLogger } from "../runtime/log.js";

const dir = (process.argv[2] ?? "").replace(/\/+$/, "");
const state = readState(dir);
if (!state) {
  console.error(`no local control plane in ${dir}; start one with npm start`);
  process.exit(2);
}
const log = createLogger("spiderpool-local", process.env.SPIDERPOOL_LOG_LEVEL ?? "warn");
const stopped = new Promise<void>((resolve) => {
  process.once("SIGTERM", resolve);
  process.once("SIGINT", resolve);
});
try {
  const system = await runLocalSystem(state, adminKubeConfig(state), log);
  log.warn({ controller: system.info.controllerUrl, nodes: system.info.nodes }, "spiderpool is running");
  await stopped;
  await system.stop();
  log.warn("spiderpool stopped");
  process.exit(0);
} catch (err) {
  log.error({ err }, "the local spiderpool system failed");
  process.exit(1);
}
