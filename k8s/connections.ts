import type { KubeConfig } from "@kubernetes/client-node";
import { createHash } from "node:crypto";
import { Agent as HttpsAgent, type AgentOptions } from "node:https";

/**
 * @kubernetes/client-node 1.x gives every API call an https.Agent of its own, so every call
 * opens a new TLS connection to the apiserver: a handshake, a SecureContext built from the
 * CA, and a certificate check per request. In the 1,000-Pod scenario that was about 40% of
 * the controller's CPU (docs/performance.md). `reuseConnections` makes a KubeConfig's API
 * calls share one keep-alive agent per set of TLS credentials instead.
 *
 * Watches (applyToHTTPSOptions) keep the library's agent: each holds its connection for
 * its whole life, so they gain nothing, and an idle timeout must never cut a quiet watch.
 */

/**
 * An API call's connection closes after this long without a byte: shorter than the
 * apiserver's idle timeout (90 s), so an idle connection is closed by us and a request is
 * never sent on one the apiserver is closing; longer than its request timeout (60 s).
 */
const IDLE_MS = 75_000;

const REUSED = Symbol("spiderpool.reuseConnections");

/** Credentials that may rotate (a client certificate renewed) give a new agent; a few old ones are kept, then forgotten (their connections close when idle). */
const MAX_AGENTS = 8;

/** The TLS options the library passes to its agents: what makes two connections interchangeable. */
const TLS_FIELDS = ["ca", "cert", "key", "pfx", "passphrase", "rejectUnauthorized", "servername"] as const;

function fingerprint(server: string, options: AgentOptions): string {
  const h = createHash("sha256").update(server);
  for (const field of TLS_FIELDS) {
    const v = (options as Record<string, unknown>)[field];
    h.update(`\0${field}=`);
    if (v !== undefined) h.update(Buffer.isBuffer(v) ? v : JSON.stringify(v));
  }
  return h.digest("hex");
}

/** Makes `kc`'s API calls (not its watches) reuse keep-alive connections; returns `kc`. Idempotent. */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  const marked = kc as KubeConfig & { [REUSED]?: true };
  if (marked[REUSED]) return kc;
  marked[REUSED] = true;
  const agents = new Map<string, HttpsAgent>();
  const original = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (context) => {
    await original(context);
    const made = context.getAgent();
    const server = kc.getCurrentCluster()?.server ?? "";
    // A proxy's agent or plain HTTP: left as the library made it.
    if (!(made instanceof HttpsAgent) || made.constructor !== HttpsAgent || !server.startsWith("https:")) return;
    const key = fingerprint(server, made.options);
    let agent = agents.get(key);
    if (!agent) {
      agent = new HttpsAgent({ ...made.options, keepAlive: true, timeout: IDLE_MS });
      agents.set(key, agent);
      for (const old of agents.keys()) {
        if (agents.size <= MAX_AGENTS) break;
        agents.delete(old);
      }
    }
    context.setAgent(agent);
  };
  return kc;
}
