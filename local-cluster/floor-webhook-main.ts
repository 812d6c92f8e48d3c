// The floor webhook (floor-webhook.ts) as a process of its own, like the controller in the
// scenarios, so that it competes for the same cores the same way.
//   node --import tsx local-cluster/floor-webhook-main.ts <kubeconfig> <id> <labels-json> [record-namespace]
// With a namespace it also writes each of its Pods' SpiderEndpoint (floor-recorder.ts).
// Prints {"port"} once it serves; on SIGTERM removes its configurations, prints the reviews
// it answered by path and the endpoints it created ({"answered": {...}, "recorded": n}) and exits.
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { reuseConnections } from "../k8s/connections.js";
import { startFloorRecorder, type FloorRecorder } from "./floor-recorder.js";
import { startFloorWebhook } from "./floor-webhook.js";

const [file = "", id = "floor", labels = "{}", recordIn] = process.argv.slice(2);
const kc = new KubeConfig();
kc.loadFromFile(file);
// Its API calls share keep-alive connections, as the controller's do (a TLS handshake per create would be no floor).
reuseConnections(kc);
const floor = await startFloorWebhook(kc, id, JSON.parse(labels) as Record<string, string>);
const recorder: FloorRecorder | undefined = recordIn ? startFloorRecorder(kc, recordIn, pino({ level: "warn" }, process.stderr)) : undefined;
process.stdout.write(`${JSON.stringify({ port: floor.port })}\n`);
process.once("SIGTERM", () => {
  void Promise.all([floor.close(), recorder?.close()]).finally(() => {
    process.stdout.write(`${JSON.stringify({ answered: Object.fromEntries(floor.answered), recorded: recorder?.recorded() ?? 0 })}\n`, () => process.exit(0));
  });
});
