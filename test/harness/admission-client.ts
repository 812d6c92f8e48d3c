import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { admissionClientFiles } from "../../local-cluster/pki.js";
import { testClusterState } from "./test-cluster.js";

/** A controller's serving CA, as its TLS Secret publishes it (ca-bundle.crt): what a client of its HTTPS port trusts. */
export async function servingCa(kc: KubeConfig, controller: { config: { tls: { secretName: string } }; namespace: string }): Promise<string> {
  const secret = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: controller.config.tls.secretName, namespace: controller.namespace });
  return Buffer.from(secret.data?.["ca-bundle.crt"] ?? "", "base64").toString();
}

export interface HttpsAnswer {
  status: number;
  body: string;
}

export interface CallOptions {
  /** The controller's serving CA (its Secret's ca-bundle.crt). */
  ca: string;
  method?: "GET" | "POST";
  /** Present the test control plane's apiserver webhook client certificate, as the apiserver does. */
  asApiserver?: boolean;
  /** Another client certificate to present (PEM). */
  clientCert?: { cert: string; key: string };
  headers?: Record<string, string>;
}

/**
 * One HTTPS call to a controller on 127.0.0.1. With `asApiserver` it presents the client
 * certificate the test control plane's apiserver uses for admission webhooks (the only
 * caller the admission routes answer); without, it is anyone else.
 */
export function callController(port: number, path: string, body: string | undefined, o: CallOptions): Promise<HttpsAnswer> {
  const client = o.asApiserver ? admissionClientFiles(join(testClusterState().dir, "pki")) : undefined;
  const cert = client ? { cert: readFileSync(client.webhookClientCert, "utf8"), key: readFileSync(client.webhookClientKey, "utf8") } : (o.clientCert ?? {});
  return new Promise((resolve, reject) => {
    const headers = { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...o.headers };
    const req = request({ host: "127.0.0.1", port, path, method: o.method ?? (body === undefined ? "GET" : "POST"), ca: o.ca, headers, ...cert }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}
