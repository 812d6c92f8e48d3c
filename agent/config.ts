import { DEFAULT_AGENT_SOCKET_PATH } from "../cni/protocol.js";
import { ConfigError, deepFreeze, resolveSettings, type Setting } from "../runtime/settings.js";

/** spiderpool-agent's configuration: parsed once from flags and environment, frozen. */
export interface AgentConfig {
  readonly nodeName: string;
  readonly socketPath: string;
  /** Attachment writes journaled before ADD answers, replayed at start. */
  readonly attachmentJournal: string;
  readonly kubeconfig?: string;
  readonly logLevel: "debug" | "info" | "warn" | "error";
  readonly healthHost: string;
  readonly healthPort: number;
  /** How long an ADD waits for the controller to record the Pod's reservation. */
  readonly endpointWaitMs: number;
  readonly coolDownMs: number;
  /** The controller's late-allocation endpoint (https://…), for Pods with no reservation. */
  readonly controllerUrl?: string;
  readonly controllerCaFile?: string;
  readonly controllerTokenFile: string;
  /** Largest request body on the CNI socket, and largest note read from the spool. */
  readonly maxBodyBytes: number;
}

export const AGENT_SETTINGS = {
  nodeName: { flag: "node-name", env: "NODE_NAME", kind: "string", help: "the node this agent serves (required; the downward API's spec.nodeName)" },
  socketPath: { flag: "socket", env: "SPIDERPOOL_AGENT_SOCKET", kind: "string", default: DEFAULT_AGENT_SOCKET_PATH, help: "unix socket the CNI plugin talks to (created with mode 0600)" },
  attachmentJournal: { flag: "attachment-journal", env: "SPIDERPOOL_AGENT_ATTACHMENT_JOURNAL", kind: "string", help: "file where ADD journals the attachment it writes after answering, replayed at start (default: the socket path + .attachments; keep it on the node, e.g. /var/run)" },
  kubeconfig: { flag: "kubeconfig", env: "KUBECONFIG", kind: "string", help: "kubeconfig file; in-cluster credentials when unset" },
  logLevel: { flag: "log-level", env: "SPIDERPOOL_LOG_LEVEL", kind: "level", default: "info", help: "debug, info, warn or error" },
  healthHost: { flag: "health-host", env: "SPIDERPOOL_AGENT_HEALTH_HOST", kind: "string", default: "127.0.0.1", help: "address of /healthz, /readyz and /metrics" },
  healthPort: { flag: "health-port", env: "SPIDERPOOL_AGENT_HEALTH_PORT", kind: "port", default: "5710", help: "port of /healthz, /readyz and /metrics (0: any free port)" },
  endpointWaitMs: { flag: "endpoint-wait-ms", env: "SPIDERPOOL_AGENT_ENDPOINT_WAIT_MS", kind: "int", default: "10000", help: "how long an ADD waits for the controller to record the Pod's reservation before answering try-again-later" },
  coolDownMs: { flag: "cool-down-ms", env: "SPIDERPOOL_COOL_DOWN_MS", kind: "int", default: "30000", help: "cool-down of addresses the agent releases (GC of vanished Pods)" },
  controllerUrl: { flag: "controller-url", env: "SPIDERPOOL_CONTROLLER_URL", kind: "string", help: "https URL of spiderpool-controller, for late allocation of Pods without a reservation" },
  controllerCaFile: { flag: "controller-ca-file", env: "SPIDERPOOL_CONTROLLER_CA_FILE", kind: "string", help: "CA bundle to trust for --controller-url" },
  controllerTokenFile: { flag: "controller-token-file", env: "SPIDERPOOL_CONTROLLER_TOKEN_FILE", kind: "string", default: "/var/run/secrets/kubernetes.io/serviceaccount/token", help: "bearer token presented to the controller (the agent's service account token)" },
  maxBodyBytes: { flag: "max-body-bytes", env: "SPIDERPOOL_AGENT_MAX_BODY_BYTES", kind: "int", default: "1048576", help: "largest request body the CNI socket reads (larger: refused with 413 before parsing), and largest note read from the attachment spool" },
} satisfies Record<string, Setting>;

export function parseAgentConfig(env: Readonly<Record<string, string | undefined>>, argv: readonly string[]): AgentConfig {
  const v = resolveSettings(AGENT_SETTINGS, env, argv) as Record<keyof typeof AGENT_SETTINGS, never>;
  if (!v.nodeName) throw new ConfigError(["--node-name / NODE_NAME is required: the node this agent serves"]);
  return deepFreeze({
    nodeName: v.nodeName,
    socketPath: v.socketPath,
    attachmentJournal: v.attachmentJournal || `${v.socketPath as string}.attachments`,
    ...(v.kubeconfig ? { kubeconfig: v.kubeconfig } : {}),
    logLevel: v.logLevel,
    healthHost: v.healthHost,
    healthPort: v.healthPort,
    endpointWaitMs: v.endpointWaitMs,
    coolDownMs: v.coolDownMs,
    ...(v.controllerUrl ? { controllerUrl: v.controllerUrl } : {}),
    ...(v.controllerCaFile ? { controllerCaFile: v.controllerCaFile } : {}),
    controllerTokenFile: v.controllerTokenFile,
    maxBodyBytes: v.maxBodyBytes,
  });
}
