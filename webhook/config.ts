import { parsePrimaryNetwork, type PrimaryNetwork } from "../ipam/kinds/network-attachment.js";
import type { GcSettings } from "../ipam/kinds/cluster-config.js";
import { ConfigError, deepFreeze, resolveSettings, type Setting } from "../runtime/settings.js";

export { ConfigError };

/**
 * The controller's configuration, parsed once from flags and environment into a frozen,
 * validated object that is passed down. Nothing below main.ts reads process.env.
 * Flags win over environment variables; every problem is reported at once.
 */
export interface ControllerConfig {
  /** The namespace the controller is installed in (its Secret, its leases). */
  readonly namespace: string;
  readonly host: string;
  readonly port: number;
  /** Offer HTTP/2 on the HTTPS port. */
  readonly http2: boolean;
  /** Plain-HTTP port of /metrics, /healthz and /readyz: nothing else is served there, and they are served nowhere else. */
  readonly metricsPort: number;
  /**
   * Who may call the admission webhooks: only clients presenting a certificate signed by
   * `caFile` (the kube-apiserver, through its AdmissionConfiguration), and when `names` is
   * not empty, only those common names. `required: false` turns the check off (docs/security.md).
   */
  readonly admissionClients: {
    readonly required: boolean;
    readonly caFile?: string;
    readonly names: readonly string[];
  };
  /** Out-of-cluster kubeconfig; in-cluster credentials when absent. */
  readonly kubeconfig?: string;
  readonly logLevel: "debug" | "info" | "warn" | "error";
  readonly tls: {
    readonly secretName: string;
    readonly serviceName: string;
    readonly extraDnsNames: readonly string[];
    readonly extraIPs: readonly string[];
    readonly caValidityDays: number;
    readonly certValidityDays: number;
    readonly renewBeforeDays: number;
    readonly caOverlapMs: number;
    /** How often each replica re-reads the Secret and renews what is due. */
    readonly checkIntervalMs: number;
  };
  readonly ipam: {
    /** The ConfigMap (in `namespace`) holding conf.yml, the cluster configuration. */
    readonly configMap: string;
    /** How long a reservation may wait for its Pod before it is released. */
    readonly reservationTtlMs: number;
    /** How long a released address rests before it is handed out again. */
    readonly coolDownMs: number;
    /** Namespaces whose Pods get nothing from Spiderpool (the install namespace is always one). */
    readonly excludedNamespaces: readonly string[];
    /** Users allowed to change ipam.spidernet.io/assigned-ips on an existing Pod. */
    readonly systemUsers: readonly string[];
    /** Identities (from their bearer tokens) allowed to ask for late allocation: the node agents. */
    readonly agentUsers: readonly string[];
    /** The audience the agents' tokens must be issued for (TokenReview), so a token meant for another service is refused. */
    readonly agentAudience: string;
    /** How long a reservation waits for its Pod before a live read may decide that the Pod was never created. */
    readonly refusedPodGraceMs: number;
    /** Reservations each replica keeps made ahead per combination of pools (ipam/lifecycle/stock.ts); 0: none. */
    readonly reservationStock: number;
    /** How long a new Pod's binding waits for the scheduler to place it (ipam/lifecycle/binder.ts); 0: at once. */
    readonly bindWaitForNodeMs: number;
    /** The network of every Pod's eth0 unless the Pod names one (docs/multus.md). */
    readonly primaryNetwork: PrimaryNetwork;
    /** NICs one Pod may have; more are refused. */
    readonly maxNics: number;
    /** The most addresses an automatic pool may hold; larger asks are refused. */
    readonly autoPoolMaxIPs: number;
    /** How often every automatic pool is checked against its application (besides events). */
    readonly autoPoolResyncMs: number;
  };
  /**
   * Whether the controller writes its own Mutating/ValidatingWebhookConfigurations at start
   * (with the settings below), reaching it through `url` or else the Service.
   */
  readonly registration: {
    readonly enabled: boolean;
    readonly url?: string;
    readonly servicePort: number;
    readonly podFailurePolicy: "Fail" | "Ignore";
  };
  /** Reclamation; conf.yml's GC keys, when given, win over these (effectiveGc). */
  readonly gc: GcSettings;
  /** Leader election of the reconcilers: a replica gives up leading renewDeadlineMs after its last renewal, before anyone may take over (leaseMs). */
  readonly leader: {
    readonly leaseMs: number;
    readonly renewDeadlineMs: number;
    readonly retryPeriodMs: number;
  };
  /** The webhook configurations whose caBundle the controller keeps current. */
  readonly webhookConfigurations: {
    readonly mutating: readonly string[];
    readonly validating: readonly string[];
  };
}

/** Every setting: its flag, its environment variable, its default. docs/reference/configuration.md lists them. */
export const SETTINGS = {
  namespace: { flag: "namespace", env: "SPIDERPOOL_NAMESPACE", kind: "string", default: "kube-system", help: "namespace the controller runs in" },
  host: { flag: "webhook-host", env: "SPIDERPOOL_WEBHOOK_HOST", kind: "string", default: "0.0.0.0", help: "address the HTTPS admission server binds" },
  port: { flag: "webhook-port", env: "SPIDERPOOL_WEBHOOK_PORT", kind: "port", default: "5722", help: "port of the HTTPS admission server (0: any free port)" },
  http2: { flag: "webhook-http2", env: "SPIDERPOOL_WEBHOOK_HTTP2", kind: "bool", default: "true", help: "offer HTTP/2 on the HTTPS port: a kube-apiserver calling the webhook at a loopback URL (--webhook-url https://127.0.0.1:5722, a replica on every apiserver's host) then sends its admissions over one connection, to one replica, instead of a TLS handshake per connection of a burst; through a Service it uses HTTP/1.1 whatever this says; false: HTTP/1.1 only (docs/performance.md)" },
  metricsPort: { flag: "metrics-port", env: "SPIDERPOOL_METRICS_PORT", kind: "port", default: "5721", help: "plain-HTTP port of /metrics, /healthz and /readyz, on the same host as the admission server (0: any free port)" },
  admissionClientAuth: { flag: "admission-client-auth", env: "SPIDERPOOL_ADMISSION_CLIENT_AUTH", kind: "bool", default: "true", help: "admission webhooks answer only clients with a certificate signed by --admission-client-ca-file (the kube-apiserver); false turns the check off (docs/security.md)" },
  admissionClientCaFile: { flag: "admission-client-ca-file", env: "SPIDERPOOL_ADMISSION_CLIENT_CA_FILE", kind: "string", help: "PEM file of the CA that signed the kube-apiserver's webhook client certificate (its AdmissionConfiguration kubeconfig); required while --admission-client-auth is true" },
  admissionClientNames: { flag: "admission-client-names", env: "SPIDERPOOL_ADMISSION_CLIENT_NAMES", kind: "list", default: "", help: "common names the admission client certificate may carry, comma separated; empty: any certificate the CA signed" },
  kubeconfig: { flag: "kubeconfig", env: "KUBECONFIG", kind: "string", help: "kubeconfig file; in-cluster credentials when unset" },
  logLevel: { flag: "log-level", env: "SPIDERPOOL_LOG_LEVEL", kind: "level", default: "info", help: "debug, info, warn or error" },
  secretName: { flag: "tls-secret", env: "SPIDERPOOL_TLS_SECRET", kind: "string", default: "spiderpool-controller-webhook-tls", help: "Secret holding the CA and serving certificate" },
  serviceName: { flag: "service-name", env: "SPIDERPOOL_SERVICE_NAME", kind: "string", default: "spiderpool-controller", help: "Service in front of the webhook (its DNS names go in the certificate)" },
  extraDnsNames: { flag: "tls-extra-dns-names", env: "SPIDERPOOL_TLS_EXTRA_DNS_NAMES", kind: "list", default: "", help: "more DNS names for the serving certificate, comma separated" },
  extraIPs: { flag: "tls-extra-ips", env: "SPIDERPOOL_TLS_EXTRA_IPS", kind: "list", default: "", help: "IP addresses for the serving certificate, comma separated (127.0.0.1 for a local control plane)" },
  caValidityDays: { flag: "ca-validity-days", env: "SPIDERPOOL_CA_VALIDITY_DAYS", kind: "int", default: "3650", help: "lifetime of a generated CA" },
  certValidityDays: { flag: "cert-validity-days", env: "SPIDERPOOL_CERT_VALIDITY_DAYS", kind: "int", default: "365", help: "lifetime of a serving certificate" },
  renewBeforeDays: { flag: "renew-before-days", env: "SPIDERPOOL_RENEW_BEFORE_DAYS", kind: "int", default: "30", help: "renew a certificate this long before it expires" },
  caOverlapMs: { flag: "ca-overlap-ms", env: "SPIDERPOOL_CA_OVERLAP_MS", kind: "int", default: "60000", help: "after a CA rotation, trust both CAs this long before serving from the new one" },
  checkIntervalMs: { flag: "cert-check-interval-ms", env: "SPIDERPOOL_CERT_CHECK_INTERVAL_MS", kind: "int", default: "60000", help: "how often to re-read the certificate Secret" },
  configMap: { flag: "config-map", env: "SPIDERPOOL_CONFIG_MAP", kind: "string", default: "spiderpool-conf", help: "ConfigMap with conf.yml, the cluster configuration (enableIPv4, default pools, ...)" },
  reservationTtlMs: { flag: "reservation-ttl-ms", env: "SPIDERPOOL_RESERVATION_TTL_MS", kind: "int", default: "60000", help: "how long addresses reserved at admission wait for their Pod before they are released" },
  coolDownMs: { flag: "cool-down-ms", env: "SPIDERPOOL_COOL_DOWN_MS", kind: "int", default: "30000", help: "how long a released address rests before it is handed out again (unless nothing else is free)" },
  excludedNamespaces: { flag: "excluded-namespaces", env: "SPIDERPOOL_EXCLUDED_NAMESPACES", kind: "list", default: "kube-system", help: "namespaces whose Pods Spiderpool leaves alone, comma separated; the install namespace is always excluded" },
  systemUsers: { flag: "system-users", env: "SPIDERPOOL_SYSTEM_USERS", kind: "list", help: "users allowed to change ipam.spidernet.io/assigned-ips; default: the controller's service account system:serviceaccount:<namespace>:spiderpool-controller" },
  agentAudience: { flag: "agent-audience", env: "SPIDERPOOL_AGENT_AUDIENCE", kind: "string", default: "spiderpool", help: "audience the agents' service account tokens are issued for; late allocation refuses tokens for any other audience" },
  refusedPodGraceMs: { flag: "refused-pod-grace-ms", env: "SPIDERPOOL_REFUSED_POD_GRACE_MS", kind: "int", default: "10000", help: "after this long, a reservation whose Pod a live read does not find (refused after the webhook: quota, policy, name taken) is released; longer than the slowest admission chain after the webhook" },
  reservationStock: { flag: "reservation-stock", env: "SPIDERPOOL_RESERVATION_STOCK", kind: "int", default: "16", help: "reservations each replica makes ahead, per combination of pools that unnamed Pods draw from, so that their admissions write no pool (at most a quarter of a pool's free addresses; given back after 10 s without such a Pod); 0 makes every admission write its pools" },
  bindWaitForNodeMs: { flag: "bind-wait-for-node-ms", env: "SPIDERPOOL_BIND_WAIT_FOR_NODE_MS", kind: "int", default: "3000", help: "how long a new Pod's binding waits for the scheduler to place it, so that its SpiderEndpoint is written once, with its node, instead of twice (a Pod still unplaced then is bound without a node, and never while its reservation has less than twice this left to live); 0 binds at once" },
  agentUsers: { flag: "agent-users", env: "SPIDERPOOL_AGENT_USERS", kind: "list", help: "users allowed to ask for late allocation; default: the agents' service account system:serviceaccount:<namespace>:spiderpool-agent" },
  primaryNetwork: { flag: "primary-network", env: "SPIDERPOOL_PRIMARY_NETWORK", kind: "string", default: "spiderpool", help: "the network of every Pod's eth0 unless it names one: spiderpool (its IPAM is Spiderpool), other (another plugin's, e.g. Calico; eth0 is never Spiderpool's) or namespace/name of the NetworkAttachmentDefinition Multus uses as its cluster network" },
  maxNicsPerPod: { flag: "max-nics-per-pod", env: "SPIDERPOOL_MAX_NICS_PER_POD", kind: "int", default: "16", help: "network interfaces one Pod may have; a Pod with more is refused" },
  autoPoolMaxIPs: { flag: "auto-pool-max-ips", env: "SPIDERPOOL_AUTO_POOL_MAX_IPS", kind: "int", default: "65536", help: "the most addresses an automatic pool may hold; an application (or Pod) asking for more through ipam.spidernet.io/ippool-ip-number or its replicas is refused" },
  autoPoolResyncMs: { flag: "auto-pool-resync-ms", env: "SPIDERPOOL_AUTO_POOL_RESYNC_MS", kind: "int", default: "300000", help: "how often every automatic pool is checked against its application (shrunk, or reclaimed when the application is gone) besides the events that trigger it" },
  registerWebhooks: { flag: "register-webhooks", env: "SPIDERPOOL_REGISTER_WEBHOOKS", kind: "bool", default: "true", help: "write the webhook configurations at start (false: the installer manages them)" },
  webhookUrl: { flag: "webhook-url", env: "SPIDERPOOL_WEBHOOK_URL", kind: "string", help: "how the apiserver reaches the webhook when not through the Service (e.g. https://127.0.0.1:5722 for a local control plane)" },
  servicePort: { flag: "service-port", env: "SPIDERPOOL_SERVICE_PORT", kind: "port", default: "443", help: "port of the Service in front of the webhook" },
  podFailurePolicy: { flag: "pod-webhook-failure-policy", env: "SPIDERPOOL_POD_WEBHOOK_FAILURE_POLICY", kind: "failurePolicy", default: "Fail", help: "Fail: Pods are refused while no controller answers; Ignore: they are created without a reservation (allocated late at CNI time)" },
  gcEnabled: { flag: "gc-enabled", env: "SPIDERPOOL_GC_IP_ENABLED", kind: "bool", default: "true", help: "reclaim the addresses of Pods that are gone, finished or past their grace period (conf.yml enableGCIP wins)" },
  gcIntervalSeconds: { flag: "gc-interval-seconds", env: "SPIDERPOOL_GC_DEFAULT_INTERVAL_DURATION", kind: "int", default: "600", help: "seconds between full scans (conf.yml gcIPInterval wins)" },
  gcAdditionalGraceDelaySeconds: { flag: "gc-additional-grace-delay-seconds", env: "SPIDERPOOL_GC_ADDITIONAL_GRACE_DELAY", kind: "int", default: "0", help: "seconds a terminating Pod keeps its addresses past its grace period (conf.yml gcAdditionalGraceDelay wins)" },
  gcTerminatingOnReadyNode: { flag: "gc-terminating-pod-on-ready-node", env: "SPIDERPOOL_GC_STATELESS_TERMINATING_POD_ON_READY_NODE_ENABLED", kind: "bool", default: "true", help: "reclaim terminating Pods past their grace period on Ready nodes (conf.yml enableGCStatelessTerminatingPodOnReadyNode wins)" },
  gcTerminatingOnNotReadyNode: { flag: "gc-terminating-pod-on-not-ready-node", env: "SPIDERPOOL_GC_STATELESS_TERMINATING_POD_ON_NOT_READY_NODE_ENABLED", kind: "bool", default: "true", help: "reclaim terminating Pods past their grace period on NotReady nodes (conf.yml enableGCStatelessTerminatingPodOnNotReadyNode wins)" },
  leaderLeaseMs: { flag: "leader-lease-ms", env: "SPIDERPOOL_LEADER_LEASE_MS", kind: "int", default: "15000", help: "how long a silent Lease keeps other replicas from taking over" },
  leaderRenewDeadlineMs: { flag: "leader-renew-deadline-ms", env: "SPIDERPOOL_LEADER_RENEW_DEADLINE_MS", kind: "int", default: "10000", help: "the leader stops leading when it has not renewed for this long (less than the lease)" },
  leaderRetryPeriodMs: { flag: "leader-retry-period-ms", env: "SPIDERPOOL_LEADER_RETRY_PERIOD_MS", kind: "int", default: "2000", help: "how often a replica tries to take or renew the Lease (less than the renew deadline)" },
  mutating: { flag: "mutating-webhook-configurations", env: "SPIDERPOOL_MUTATING_WEBHOOK_CONFIGURATIONS", kind: "list", default: "spiderpool-mutating", help: "MutatingWebhookConfigurations to publish the CA in" },
  validating: { flag: "validating-webhook-configurations", env: "SPIDERPOOL_VALIDATING_WEBHOOK_CONFIGURATIONS", kind: "list", default: "spiderpool-validating", help: "ValidatingWebhookConfigurations to publish the CA in" },
} satisfies Record<string, Setting>;

export function parseControllerConfig(env: Readonly<Record<string, string | undefined>>, argv: readonly string[]): ControllerConfig {
  const v = resolveSettings(SETTINGS, env, argv) as Record<keyof typeof SETTINGS, never>;
  const config: ControllerConfig = {
    namespace: v.namespace,
    host: v.host,
    port: v.port,
    http2: v.http2,
    metricsPort: v.metricsPort,
    admissionClients: { required: v.admissionClientAuth, ...(v.admissionClientCaFile ? { caFile: v.admissionClientCaFile } : {}), names: v.admissionClientNames },
    ...(v.kubeconfig ? { kubeconfig: v.kubeconfig } : {}),
    logLevel: v.logLevel,
    tls: {
      secretName: v.secretName,
      serviceName: v.serviceName,
      extraDnsNames: v.extraDnsNames,
      extraIPs: v.extraIPs,
      caValidityDays: v.caValidityDays,
      certValidityDays: v.certValidityDays,
      renewBeforeDays: v.renewBeforeDays,
      caOverlapMs: v.caOverlapMs,
      checkIntervalMs: v.checkIntervalMs,
    },
    ipam: {
      configMap: v.configMap,
      reservationTtlMs: v.reservationTtlMs,
      coolDownMs: v.coolDownMs,
      excludedNamespaces: [...new Set([...(v.excludedNamespaces as string[]), v.namespace])],
      systemUsers: (v.systemUsers as string[] | undefined) ?? [`system:serviceaccount:${v.namespace as string}:spiderpool-controller`],
      agentUsers: (v.agentUsers as string[] | undefined) ?? [`system:serviceaccount:${v.namespace as string}:spiderpool-agent`],
      agentAudience: v.agentAudience,
      refusedPodGraceMs: v.refusedPodGraceMs,
      reservationStock: v.reservationStock,
      bindWaitForNodeMs: v.bindWaitForNodeMs,
      primaryNetwork: parsePrimaryNetwork(v.primaryNetwork) ?? "spiderpool",
      maxNics: v.maxNicsPerPod,
      autoPoolMaxIPs: v.autoPoolMaxIPs,
      autoPoolResyncMs: v.autoPoolResyncMs,
    },
    registration: {
      enabled: v.registerWebhooks,
      ...(v.webhookUrl ? { url: v.webhookUrl } : {}),
      servicePort: v.servicePort,
      podFailurePolicy: v.podFailurePolicy,
    },
    gc: {
      enabled: v.gcEnabled,
      intervalMs: (v.gcIntervalSeconds as number) * 1000,
      additionalGraceDelayMs: (v.gcAdditionalGraceDelaySeconds as number) * 1000,
      terminatingOnReadyNode: v.gcTerminatingOnReadyNode,
      terminatingOnNotReadyNode: v.gcTerminatingOnNotReadyNode,
    },
    leader: { leaseMs: v.leaderLeaseMs, renewDeadlineMs: v.leaderRenewDeadlineMs, retryPeriodMs: v.leaderRetryPeriodMs },
    webhookConfigurations: { mutating: v.mutating, validating: v.validating },
  };
  if (parsePrimaryNetwork(v.primaryNetwork) === undefined) {
    throw new ConfigError([`--primary-network (SPIDERPOOL_PRIMARY_NETWORK) is '${v.primaryNetwork as string}'; use spiderpool, other, or namespace/name of a NetworkAttachmentDefinition`]);
  }
  if (config.ipam.maxNics < 1) throw new ConfigError([`--max-nics-per-pod (SPIDERPOOL_MAX_NICS_PER_POD) is ${config.ipam.maxNics}; use 1 or more`]);
  checkTimings(config);
  return deepFreeze(config);
}

/** Settings that must be ordered against each other; every problem at once. */
function checkTimings(c: ControllerConfig): void {
  const problems: string[] = [];
  if (c.tls.renewBeforeDays >= c.tls.certValidityDays) problems.push(`--renew-before-days (${c.tls.renewBeforeDays}) must be less than --cert-validity-days (${c.tls.certValidityDays})`);
  if (c.leader.renewDeadlineMs >= c.leader.leaseMs) problems.push(`--leader-renew-deadline-ms (${c.leader.renewDeadlineMs}) must be less than --leader-lease-ms (${c.leader.leaseMs}), or two replicas could lead at once`);
  if (c.leader.retryPeriodMs >= c.leader.renewDeadlineMs) problems.push(`--leader-retry-period-ms (${c.leader.retryPeriodMs}) must be less than --leader-renew-deadline-ms (${c.leader.renewDeadlineMs})`);
  checkAccess(c, problems);
  if (c.gc.intervalMs === 0) problems.push("--gc-interval-seconds / SPIDERPOOL_GC_DEFAULT_INTERVAL_DURATION must be at least 1");
  if (problems.length > 0) throw new ConfigError(problems);
}

/** Who may call which port: the admission clients' CA, and two distinct ports. */
function checkAccess(c: ControllerConfig, problems: string[]): void {
  if (c.admissionClients.required && !c.admissionClients.caFile) {
    problems.push("--admission-client-ca-file (SPIDERPOOL_ADMISSION_CLIENT_CA_FILE) is not set: name the CA that signed the kube-apiserver's webhook client certificate, or set --admission-client-auth=false to answer any client (docs/security.md)");
  }
  if (c.port !== 0 && c.port === c.metricsPort) problems.push(`--metrics-port (${c.metricsPort}) must differ from --webhook-port (${c.port})`);
}
