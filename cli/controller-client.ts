import { AdmissionregistrationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { request, type RequestOptions } from "node:https";
import { retry } from "../ipam/retry.js";
import { systemClock } from "../runtime/clock.js";

/**
 * Every call the CLI makes to spiderpool-controller's own routes (/v1/history,
 * /v1/consistency, /v1/gc) goes through this module, so how it gets there and what it
 * carries is decided in one place:
 *
 * - The controller is found through its MutatingWebhookConfiguration (spiderpool-mutating
 *   unless told otherwise), the object the apiserver itself uses to reach it. A `service`
 *   reference (a cluster, the Helm chart) is reached through the apiserver's Service proxy,
 *   /api/v1/namespaces/<ns>/services/https:<name>:<port>/proxy/<route>, with the user's
 *   kubeconfig credentials: the apiserver authenticates and authorises the user (RBAC on
 *   services/proxy). A `url` (the local control plane of `npm start`, where the controller
 *   listens on 127.0.0.1 and the apiserver refuses to proxy to loopback) is called directly,
 *   trusting the configuration's caBundle and carrying the user's bearer token, if the
 *   kubeconfig has one, for the controller to review.
 * - --controller-url names the URL outright (then --controller-ca, or the configuration's caBundle).
 */
export interface ControllerClient {
  /** Where the calls go, for messages. */
  readonly via: string;
  get(route: string, query?: Record<string, string>): Promise<unknown>;
  post(route: string, body?: unknown): Promise<unknown>;
}

export interface ControllerTarget {
  /** The MutatingWebhookConfiguration that names the controller. */
  webhookConfiguration: string;
  url?: string;
  caPem?: string;
  /** A bearer token for the controller's routes (--token), for a kubeconfig whose user has none (a client certificate). */
  token?: string;
}

/** An answer other than 2xx from the controller (or the proxy in front of it). */
export class ControllerError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ControllerError";
  }
}

interface Endpoint {
  base: URL;
  options: RequestOptions;
  via: string;
}

async function userOptions(kc: KubeConfig): Promise<RequestOptions> {
  const opts: RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  return opts;
}

/** The route's full URL: under the Service proxy's path when there is one. */
function routeUrl(base: URL, route: string, query: Record<string, string> = {}): URL {
  const u = new URL(base.toString());
  u.pathname = `${u.pathname.replace(/\/+$/, "")}${route}`;
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return u;
}

/** --token, else the kubeconfig user's own bearer token, if any. */
function bearerOf(t: ControllerTarget, user: { headers?: unknown }): string | undefined {
  return t.token ? `Bearer ${t.token}` : (user.headers as Record<string, string> | undefined)?.Authorization;
}

async function discover(kc: KubeConfig, t: ControllerTarget): Promise<Endpoint> {
  const user = await userOptions(kc);
  const bearer = bearerOf(t, user);
  const direct = (url: string, ca: string | undefined, via: string): Endpoint => ({ base: new URL(url), options: { ...(ca ? { ca } : {}), headers: bearer ? { Authorization: bearer } : {} }, via });
  let config;
  try {
    config = await kc.makeApiClient(AdmissionregistrationV1Api).readMutatingWebhookConfiguration({ name: t.webhookConfiguration });
  } catch (err) {
    if (t.url) return direct(t.url, t.caPem, t.url);
    throw new Error(`cannot find spiderpool-controller: MutatingWebhookConfiguration ${t.webhookConfiguration} could not be read (${(err as Error).message}); pass --controller-webhook NAME or --controller-url URL`);
  }
  const client = config.webhooks?.[0]?.clientConfig ?? {};
  const ca = t.caPem ?? (client.caBundle ? Buffer.from(client.caBundle, "base64").toString("utf8") : undefined);
  const url = t.url ?? (client.url ? new URL(client.url).origin : undefined);
  if (url) return direct(url, ca, url);
  const svc = client.service;
  if (!svc) throw new Error(`MutatingWebhookConfiguration ${t.webhookConfiguration} names neither a url nor a service`);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig has no current cluster");
  const path = `/api/v1/namespaces/${svc.namespace}/services/https:${svc.name}:${svc.port ?? 443}/proxy`;
  return { base: new URL(`${cluster.server.replace(/\/+$/, "")}${path}`), options: user, via: `the apiserver's proxy to service ${svc.namespace}/${svc.name}` };
}

function messageOf(parsed: unknown, text: string): string {
  return typeof parsed === "object" && parsed !== null && "message" in parsed ? String(parsed.message) : text.slice(0, 300);
}

function call(e: Endpoint, method: "GET" | "POST", url: URL, body?: unknown): Promise<unknown> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers = { ...(e.options.headers as Record<string, string> | undefined), Accept: "application/json", ...(payload ? { "Content-Type": "application/json" } : {}) };
  return new Promise((resolve, reject) => {
    // agent: false: a fresh connection each time, so a retry may reach another replica.
    const req = request(url, { ...e.options, method, headers, agent: false, timeout: 120_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON (a proxy's error page): kept as text
        }
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve(parsed);
        else reject(new ControllerError(status, `${method} ${url.pathname}: ${status} ${messageOf(parsed, text)}`));
      });
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url.pathname}: no answer in 120 s`)));
    req.on("error", reject);
    req.end(payload);
  });
}

/** 503 is what a replica that is not the leader answers /v1/gc (and what a draining one answers). */
const NOT_LEADER_RETRY = { policy: { attempts: 8, baseMs: 100, maxMs: 1000, jitter: true }, clock: systemClock, retryable: (err: unknown) => err instanceof ControllerError && err.status === 503 };

export async function controllerClient(kc: KubeConfig, target: ControllerTarget): Promise<ControllerClient> {
  const e = await discover(kc, target);
  return {
    via: e.via,
    get: (route, query) => call(e, "GET", routeUrl(e.base, route, query)),
    // Several replicas sit behind one address and only the leader scans: another replica says
    // so with a 503, and a new connection is likely to reach another one.
    post: (route, body) => retry(() => call(e, "POST", routeUrl(e.base, route), body), NOT_LEADER_RETRY),
  };
}
