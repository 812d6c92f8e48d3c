/**
 * The wire contract between the `spiderpool` CNI binary and `spiderpool-agent`:
 * HTTP/1.1 with JSON bodies over the agent's unix socket. Both programs import this file,
 * so it has no imports and no code beyond constants.
 *
 *   POST /v1/cni/add     AgentRequest            → 200 AddAnswer   | AgentError
 *   POST /v1/cni/del     AgentRequest            → 200 {}          | AgentError
 *   POST /v1/cni/check   CheckRequest            → 200 {}          | AgentError
 *   POST /v1/cni/gc      GcRequest               → 200 GcAnswer    | AgentError
 *   GET  /v1/cni/status                          → 200 {}          | AgentError
 *   POST /v1/coordinator/config  CoordinatorConfigRequest → 200 CoordinatorConfigAnswer | AgentError
 *                                (asked by the `coordinator` plugin, cni/coordinator/)
 *
 * A refusal is any non-2xx status whose body is an AgentError; the plugin prints it as the
 * CNI error (code, msg, details) so the agent chooses the code. docs/cni.md is the prose
 * version of this file, with the error table.
 */

/**
 * ADD's fast path (docs/cni.md, "ADD without a round trip"): beside its socket the agent
 * keeps `<socket>.answers/<pod uid>.json`, an AnswerFile for each Pod of its node whose
 * reservation it has proven, and drains `<socket>.spool/`, where the plugin leaves one
 * SpooledAttachment per ADD it answered from such a file. Anything missing or unreadable:
 * the plugin asks over the socket instead.
 */
export const ANSWERS_DIR_SUFFIX = ".answers";
export const SPOOL_DIR_SUFFIX = ".spool";

export interface AnswerFile {
  namespace: string;
  name: string;
  uid: string;
  /** Per Pod NIC, the ADD answer as the agent would give it with `clean_gateway` unset. */
  nics: Record<string, AddAnswer>;
}

export interface SpooledAttachment {
  op: "add";
  namespace: string;
  name: string;
  uid: string;
  attachment: { containerID: string; interface: string; network: string };
}

/** Where the agent listens unless the network config sets `ipam.ipam_unix_socket_path`. */
export const DEFAULT_AGENT_SOCKET_PATH = "/var/run/spidernet/spiderpool.sock";

export const AGENT_PATHS = {
  add: "/v1/cni/add",
  del: "/v1/cni/del",
  check: "/v1/cni/check",
  gc: "/v1/cni/gc",
  status: "/v1/cni/status",
  /** The coordinator plugin's question: the cluster's defaults and the Pod's default-route NIC. */
  coordinator: "/v1/coordinator/config",
} as const;

export type AgentPath = (typeof AGENT_PATHS)[keyof typeof AGENT_PATHS];

/** The CNI config's `ipam` options the agent acts on (names as in the config). */
export interface AgentIpamOptions {
  default_ipv4_ippool?: string[];
  default_ipv6_ippool?: string[];
  clean_gateway?: boolean;
}

/**
 * One attachment: ADD, DEL and CHECK. The spec's key for plugin state is
 * (network, containerID, ifName); the agent records all three so that GC, which the
 * runtime runs once per network, only ever considers that network's attachments.
 */
export interface AgentRequest {
  containerID: string;
  /** Empty on a DEL whose runtime no longer knows the namespace. */
  netns: string;
  ifName: string;
  /** The network config's `name`. */
  network: string;
  podNamespace: string;
  podName: string;
  podUID?: string;
  /** The config's cniVersion, for the agent's logs and for answers that differ by version. */
  cniVersion: string;
  ipam: AgentIpamOptions;
}

export interface CheckRequest extends AgentRequest {
  /** The runtime's cached result of the ADD, as the plugin received it. */
  prevResult?: unknown;
}

export interface AddAnswer {
  ips: AnswerIP[];
  /**
   * Routes for `ifName`, default routes included when the NIC should get one: the agent
   * decides from the Pod (its `cleangateway`) and the request's `ipam.clean_gateway`.
   * The plugin still drops default routes when its config says `clean_gateway: true`.
   */
  routes: AnswerRoute[];
  dns?: AnswerDNS;
}

export interface AnswerIP {
  /** The Pod NIC this address is for; the plugin keeps only those for CNI_IFNAME. */
  interface: string;
  /** CIDR form: the address and the prefix length of its subnet, e.g. "10.6.0.5/24". */
  address: string;
  gateway?: string;
  family: 4 | 6;
  vlan?: number;
}

export interface AnswerRoute {
  dst: string;
  gw?: string;
}

export interface AnswerDNS {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** One still-valid attachment, as the runtime lists it in `cni.dev/valid-attachments`. */
export interface Attachment {
  containerID: string;
  ifname: string;
}

export interface GcRequest {
  /** The network config's `name`: GC concerns that network's attachments only. */
  network: string;
  validAttachments: Attachment[];
}

export interface GcAnswer {
  /**
   * How many attachments the agent dropped: forgotten when their Pod still exists (its
   * addresses stay with it), released with their addresses when the Pod is gone.
   */
  released: number;
}

/** POST /v1/coordinator/config: for which Pod the coordinator runs. */
export interface CoordinatorConfigRequest {
  podNamespace: string;
  podName: string;
}

export interface CoordinatorConfigAnswer {
  /**
   * The cluster's defaults, in the network config's field names: SpiderCoordinator
   * `default`'s spec fields, and its status's serviceCIDR and overlayPodCIDR. {} when the
   * cluster has no SpiderCoordinator.
   */
  defaults: Record<string, unknown>;
  /** The Pod's `ipam.spidernet.io/default-route-nic` annotation, when it has one. */
  podDefaultRouteNIC?: string;
}

export interface AgentError {
  /** A CNI error code (see CNI_ERROR_CODES): the plugin prints it unchanged. */
  code: number;
  msg: string;
  details?: string;
  /** A stable project code (e.g. POOL_EXHAUSTED from ipam/errors.ts) for scripts and metrics. */
  reason?: string;
}

/**
 * CNI error codes. 1–99 are the spec's (50/51 only for STATUS); 100–109 are raised by the
 * plugin itself, 110–199 by the agent. docs/cni.md has one row per code.
 */
export const CNI_ERROR_CODES = {
  INCOMPATIBLE_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENVIRONMENT: 4,
  IO_FAILURE: 5,
  DECODING_FAILURE: 6,
  INVALID_NETWORK_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  PLUGIN_NOT_AVAILABLE: 50,
  PLUGIN_NOT_AVAILABLE_LIMITED_CONNECTIVITY: 51,
  /** The agent answered, but not in this protocol (version skew, a proxy, a bug). */
  AGENT_BAD_ANSWER: 100,
  /** An unexpected failure inside the plugin: a bug. */
  PLUGIN_INTERNAL: 101,
  /** The address core refused; `reason` is the core's code (ipam/errors.ts, docs/errors.md). */
  IPAM_REFUSED: 110,
  /** The Pod's assigned-ips does not match what the controller recorded for it (SpiderEndpoint). */
  RECORD_MISMATCH: 111,
  /** The Pod has no reserved address for this NIC and late allocation is not available. */
  NO_RESERVATION: 112,
} as const;
