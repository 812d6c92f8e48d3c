// npm run stop — stops what `npm start -- --detach` left running (the controllers, the
// simulated nodes and their network namespaces, the control plane) and removes its files.
import { clusterDir } from "../local-cluster/cluster.js";
import { leftovers, stopLocalSystem } from "../local-cluster/system-stop.js";

const name = process.env.SPIDERPOOL_CLUSTER_NAME ?? "local";
const { swept } = await stopLocalSystem(name);
if (swept.length > 0) console.log(`removed what a killed run left: ${swept.join(", ")}`);
const left = await leftovers(name);
if (left.processes.length + left.netns.length + left.links.length > 0 || left.dir) {
  console.error(`could not remove everything of "${name}": ${JSON.stringify(left)}`);
  process.exit(1);
}
console.log(`stopped "${name}" and removed ${clusterDir(name)}`);
