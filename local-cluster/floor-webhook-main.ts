// The floor webhook (floor-webhook.ts) as a process of its own, like the controller in the
// scenarios, so that it competes for the same cores the same way.
//   node --import tsx local-cluster/floor-webhook-main.ts <kubeconfig> <id> <labels-json>
// Prints {"port"} once it serves; on SIGTERM removes its configurations, prints the reviews
// it answered by path ({"answered": {...}}) and exits.
import { KubeConfig } from "@kubernetes/client-node";
import { startFloorWebhook } from "./floor-webhook.js";

const [file = "", id = "floor", labels = "{}"] = process.argv.slice(2);
const kc = new KubeConfig();
kc.loadFromFile(file);
const floor = await startFloorWebhook(kc, id, JSON.parse(labels) as Record<string, string>);
process.stdout.write(`${JSON.stringify({ port: floor.port })}\n`);
process.once("SIGTERM", () => {
  void floor.close().finally(() => {
    process.stdout.write(`${JSON.stringify({ answered: Object.fromEntries(floor.answered) })}\n`, () => process.exit(0));
  });
});
