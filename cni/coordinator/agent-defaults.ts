/**
 * The cluster's coordinator defaults (SpiderCoordinator), and the Pod's choice of
 * default-route NIC (its `ipam.spidernet.io/default-route-nic` annotation), asked of
 * spiderpool-agent over its unix socket, as Spiderpool's coordinator does.
 *
 * - `agentSocketPath: ""` in the config: not asked (the network config is all there is).
 * - no Pod in CNI_ARGS: not asked (nothing Kubernetes to look up).
 * - the agent unreachable or silent: code 11, try again later; the Pod would otherwise get
 *   routes without the cluster's Service CIDRs and nobody would notice.
 * - an agent without this path (an older one, HTTP 404): no defaults, with a warning.
 */
import { AgentTimeoutError, type AgentTransport, AgentUnreachableError } from "../agent-client.js";
import { agentRefusal, readAgentError } from "../agent-answer.js";
import { CniError } from "../errors.js";
import type { Logger } from "../log.js";
import { AGENT_PATHS, CNI_ERROR_CODES, type CoordinatorConfigRequest } from "../protocol.js";
import { type CoordinatorConf, type Tunables, parseTunables } from "./config.js";

export interface ClusterDefaults {
  tunables?: Tunables;
  podDefaultRouteNIC?: string;
}

const TIMEOUT_MS = 10_000;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export async function askAgent(
  connect: (socketPath: string) => AgentTransport,
  conf: CoordinatorConf,
  pod: { namespace: string; name: string } | undefined,
  log: Logger,
): Promise<ClusterDefaults> {
  if (conf.agentSocketPath === "" || pod === undefined) return {};
  const agent = connect(conf.agentSocketPath);
  const body: CoordinatorConfigRequest = { podNamespace: pod.namespace, podName: pod.name };
  let reply;
  try {
    reply = await agent.call("POST", AGENT_PATHS.coordinator, body, TIMEOUT_MS);
  } catch (err) {
    if (err instanceof AgentUnreachableError || err instanceof AgentTimeoutError) {
      throw new CniError(CNI_ERROR_CODES.TRY_AGAIN_LATER, `cannot get the cluster's coordinator defaults: ${err.message}`, 'is spiderpool-agent running on this node? Set agentSocketPath: "" to use the network config alone');
    }
    throw err;
  }
  if (reply.status === 404) {
    log.warn("spiderpool-agent does not serve coordinator defaults: using the network config alone", { socket: conf.agentSocketPath });
    return {};
  }
  if (reply.status < 200 || reply.status >= 300) {
    const refusal = readAgentError(reply.body);
    throw refusal ? agentRefusal(refusal) : new CniError(CNI_ERROR_CODES.TRY_AGAIN_LATER, `spiderpool-agent answered ${AGENT_PATHS.coordinator} with HTTP ${reply.status}`, reply.text.slice(0, 200));
  }
  const answer = isObject(reply.body) ? reply.body : {};
  const out: ClusterDefaults = { tunables: parseTunables(isObject(answer.defaults) ? answer.defaults : {}, "SpiderCoordinator: ") };
  if (typeof answer.podDefaultRouteNIC === "string" && answer.podDefaultRouteNIC !== "") out.podDefaultRouteNIC = answer.podDefaultRouteNIC;
  log.debug("cluster defaults", { defaults: answer.defaults, podDefaultRouteNIC: out.podDefaultRouteNIC });
  return out;
}
