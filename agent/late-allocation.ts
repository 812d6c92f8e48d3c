import { readFileSync } from "node:fs";
import { request } from "node:https";
import type { Logger } from "pino";
import { CNI_ERROR_CODES } from "../cni/protocol.js";
import type { AgentConfig } from "./config.js";
import type { PodLike } from "../ipam/kinds/pod.js";
import { AgentFailure } from "./cni-service.js";

/**
 * Asks spiderpool-controller to reserve, on this node, for a Pod that reached CNI without
 * a reservation (its namespace is excluded from the webhook, or it predates Spiderpool).
 * The controller runs the same reservation code as admission, writes assigned-ips into the
 * Pod and records it; the agent then answers from that like any other Pod.
 */
export function startLateAllocation(config: AgentConfig, log: Logger): (pod: PodLike, ifName: string) => Promise<void> {
  const url = new URL("/v1/allocate", config.controllerUrl);
  const ca = config.controllerCaFile ? readFileSync(config.controllerCaFile, "utf8") : undefined;
  return (pod, ifName) =>
    new Promise((resolve, reject) => {
      // Read per call: a projected service account token is rotated by the kubelet.
      const token = readFileSync(config.controllerTokenFile, "utf8").trim();
      const payload = JSON.stringify({ namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid, node: config.nodeName, interface: ifName });
      const req = request(url, { method: "POST", ...(ca ? { ca } : {}), headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, timeout: 30_000 }, (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => {
          if (res.statusCode === 200) return resolve();
          let message = text;
          let reason: string | undefined;
          try {
            const parsed = JSON.parse(text) as { message?: string; reason?: string };
            message = parsed.message ?? text;
            reason = parsed.reason;
          } catch {
            // keep the raw text
          }
          log.info({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, status: res.statusCode, message }, "late allocation refused");
          reject(new AgentFailure(res.statusCode === 403 || res.statusCode === 422 ? CNI_ERROR_CODES.IPAM_REFUSED : CNI_ERROR_CODES.TRY_AGAIN_LATER, `late allocation for ${ifName} refused by spiderpool-controller`, `${reason ? `${reason}: ` : ""}${message}`, reason));
        });
      });
      req.on("timeout", () => req.destroy(new Error("spiderpool-controller did not answer within 30 s")));
      req.on("error", (err) => reject(new AgentFailure(CNI_ERROR_CODES.TRY_AGAIN_LATER, `spiderpool-controller at ${url.origin} is unreachable for late allocation`, err.message)));
      req.end(payload);
    });
}
