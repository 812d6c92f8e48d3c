import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect, type ClientHttp2Session } from "node:http2";
import { request } from "node:https";
import { join } from "node:path";
import { admissionClientFiles } from "../../local-cluster/pki.js";
import { testClusterState } from "./test-cluster.js";

/** A controller's serving CA, as its TLS Secret publishes it (ca-bundle.crt): what a client of its HTTPS port trusts. */
export async function servingCa(kc: KubeConfig, controller: { config: { tls: { secretName: string } }; namespace: string }): Promise<string> {
  const secret = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: controller.config.tls.secretName, namespace: controller.namespace });
  return Buffer.from(secret.data?.["ca-bundle.crt"] ?? "", "base64").toString();
}

/** An AdmissionReview of a Pod CREATE, as the apiserver sends it for a ReplicaSet's Pod. */
export function podCreateReview(namespace: string, object: unknown, o: { uid?: string; dryRun?: boolean } = {}): object {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: o.uid ?? randomUUID(),
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      namespace,
      operation: "CREATE",
      userInfo: { username: "system:serviceaccount:kube-system:replicaset-controller" },
      object,
      dryRun: o.dryRun ?? false,
    },
  };
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
  /** Over HTTP/2 (as the apiserver calls), on this session if given, else on a session of its own. */
  http2?: boolean | ClientHttp2Session;
}

/**
 * One HTTPS call to a controller on 127.0.0.1. With `asApiserver` it presents the client
 * certificate the test control plane's apiserver uses for admission webhooks (the only
 * caller the admission routes answer); without, it is anyone else.
 */
export function callController(port: number, path: string, body: string | undefined, o: CallOptions): Promise<HttpsAnswer> {
  const client = o.asApiserver ? admissionClientFiles(join(testClusterState().dir, "pki")) : undefined;
  const cert = client ? { cert: readFileSync(client.webhookClientCert, "utf8"), key: readFileSync(client.webhookClientKey, "utf8") } : (o.clientCert ?? {});
  if (o.http2) return callOverHttp2(typeof o.http2 === "object" ? o.http2 : http2Session(port, o.ca, cert), typeof o.http2 !== "object", path, body, o);
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: methodOf(body, o), ca: o.ca, headers: headersOf(body, o), ...cert }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const methodOf = (body: string | undefined, o: CallOptions): string => o.method ?? (body === undefined ? "GET" : "POST");
const headersOf = (body: string | undefined, o: CallOptions): Record<string, string> => ({ ...(body !== undefined ? { "content-type": "application/json" } : {}), ...o.headers });

/** An HTTP/2 session to a controller on 127.0.0.1, presenting `cert` if given. */
export function http2Session(port: number, ca: string, cert: { cert?: string; key?: string } = {}): ClientHttp2Session {
  return connect(`https://127.0.0.1:${port}`, { ca, ...cert });
}

function callOverHttp2(session: ClientHttp2Session, own: boolean, path: string, body: string | undefined, o: CallOptions): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ":method": methodOf(body, o), ":path": path, ...headersOf(body, o) });
    let status = 0;
    let text = "";
    req.on("response", (h) => (status = Number(h[":status"])));
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => {
      if (own) session.close();
      resolve({ status, body: text });
    });
    req.on("error", (err: Error) => {
      if (own) session.close();
      reject(err);
    });
    req.end(body);
  });
}
