// The floor of any admission webhook, for the benchmarks: a server that answers every review
// at once (a Pod's mutation with a fixed annotation of an assigned-ips annotation's size),
// keeps no state and writes nothing to the apiserver, registered with the very webhook
// configurations the controller registers (same rules, CEL conditions, TLS with a client
// certificate asked for, HTTP/2 where the apiserver offers it). What a scenario costs beyond
// this is Spiderpool's own work; what this costs beyond the baseline is the price of being a
// webhook at all on this control plane.
import { spawn } from "node:child_process";
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { TLSSocket } from "node:tls";
import { AdmissionregistrationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { createCA, issueCertificate } from "../certs/pki.js";
import { diff } from "../webhook/admission/json-patch.js";
import type { JsonPatchOp } from "../webhook/admission/review.js";
import { webhookConfigurations } from "../webhook/registration.js";
import { REPO_ROOT } from "./binaries.js";

/** As long as the annotation a single-NIC IPv4 Pod gets (its pool, token, gateway, reservation). */
const ANNOTATION_VALUE = JSON.stringify({ reservation: "r1a2b3c4d", ips: [{ interface: "eth0", ipv4: "10.180.3.211/16", ipv4Pool: "exact-v4", ipv4Token: 1234, ipv4Gateway: "10.180.0.1" }] });
export const ANNOTATION_KEY = "bench.spiderpool.local/floor";

export interface FloorWebhook {
  port: number;
  /** Reviews answered, by webhook path. */
  answered: Map<string, number>;
  close(): Promise<void>;
}

interface Review {
  request?: { uid?: string; object?: { metadata?: { annotations?: Record<string, string> } } };
}

/** The JSON patch that adds the floor's annotation to `object`, whether it has annotations or not. */
export function floorPatch(object: { metadata?: { annotations?: Record<string, string> } } | undefined): JsonPatchOp[] {
  const metadata = object?.metadata ?? {};
  return diff({ metadata }, { metadata: { ...metadata, annotations: { ...metadata.annotations, [ANNOTATION_KEY]: ANNOTATION_VALUE } } });
}

/** The answer to one review: allowed, and for a Pod's mutation the annotation. */
export function floorAnswer(path: string, body: string): string {
  const review = JSON.parse(body) as Review;
  const mutatePod = path.endsWith("/mutate-pod");
  const patch = mutatePod ? { patchType: "JSONPatch", patch: Buffer.from(JSON.stringify(floorPatch(review.request?.object))).toString("base64") } : {};
  return JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: review.request?.uid ?? "", allowed: true, ...patch } });
}

/**
 * Serves on 127.0.0.1 and registers the controller's webhook configurations (named after
 * `id`, scoped to objects and namespaces labelled `labels`) pointing at itself.
 */
export async function startFloorWebhook(kc: KubeConfig, id: string, labels: Record<string, string>): Promise<FloorWebhook> {
  const ca = createCA(`${id}-ca`);
  const serving = issueCertificate(ca, { commonName: "127.0.0.1", ipAddresses: ["127.0.0.1"], usage: "server" });
  const answered = new Map<string, number>();
  const server = createSecureServer({ allowHTTP1: true, key: serving.keyPem, cert: serving.certPem, requestCert: true, rejectUnauthorized: false }, (req: Http2ServerRequest, res: Http2ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      // The apiserver adds its timeout as a query (`?timeout=10s`).
      const path = (req.url ?? "").split("?")[0] ?? "";
      answered.set(path, (answered.get(path) ?? 0) + 1);
      let answer: string;
      try {
        answer = floorAnswer(path, Buffer.concat(chunks).toString("utf8"));
      } catch (err) {
        res.writeHead(400, { "content-type": "text/plain" });
        res.end(`not an AdmissionReview: ${(err as Error).message}`);
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(answer);
    });
  });
  const sockets = new Set<TLSSocket>();
  server.on("secureConnection", (s: TLSSocket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const names = { mutatingName: `${id}-mutating`, validatingName: `${id}-validating` };
  const [mutating, validating] = webhookConfigurations({
    ...names,
    endpoint: { url: `https://127.0.0.1:${port}` },
    caBundle: Buffer.from(ca.certPem).toString("base64"),
    failurePolicy: "Fail",
    objectSelector: { matchLabels: labels },
    excludedNamespaces: [],
    podNamespaceSelector: { matchLabels: labels },
  });
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  await admission.createMutatingWebhookConfiguration({ body: mutating });
  await admission.createValidatingWebhookConfiguration({ body: validating });
  return {
    port,
    answered,
    async close() {
      await admission.deleteMutatingWebhookConfiguration({ name: names.mutatingName }).catch(() => undefined);
      await admission.deleteValidatingWebhookConfiguration({ name: names.validatingName }).catch(() => undefined);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // The apiserver keeps its connection open; closing the server waits for it.
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** The floor webhook in a process of its own (floor-webhook-main.ts); `stop` gives the reviews it answered, by path, and the endpoints it wrote. */
export interface FloorProcess {
  pid: number;
  port: number;
  stop(): Promise<{ answered: Record<string, number>; recorded: number }>;
}

/** With `recordIn`, the process also writes the SpiderEndpoint of each Pod of that namespace (floor-recorder.ts). */
export async function spawnFloorWebhook(kubeconfig: string, id: string, labels: Record<string, string>, recordIn?: string): Promise<FloorProcess> {
  const args = [join(REPO_ROOT, "local-cluster/floor-webhook-main.ts"), kubeconfig, id, JSON.stringify(labels), ...(recordIn ? [recordIn] : [])];
  const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const lines = createInterface({ input: child.stdout });
  const next = (): Promise<string | undefined> =>
    new Promise((resolve) => {
      const exit = (): void => resolve(undefined);
      child.once("exit", exit);
      lines.once("line", (l) => {
        child.off("exit", exit);
        resolve(l);
      });
    });
  const first = await next();
  if (first === undefined) throw new Error(`the floor webhook exited before serving: ${stderr}`);
  const { port } = JSON.parse(first) as { port: number };
  return {
    pid: child.pid ?? 0,
    port,
    async stop() {
      const last = next();
      child.kill("SIGTERM");
      const line = await last;
      const said = line ? (JSON.parse(line) as { answered?: Record<string, number>; recorded?: number }) : {};
      return { answered: said.answered ?? {}, recorded: said.recorded ?? 0 };
    },
  };
}
