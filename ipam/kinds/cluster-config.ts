import type { NetworkRef } from "./meta.js";

/**
 * The cluster configuration (ConfigMap `spiderpool-conf`, key `conf.yml`), Spiderpool's
 * keys plus this project's extensions. Parsed once per change into a frozen object.
 */
export interface ClusterConfig {
  readonly enableIPv4: boolean;
  readonly enableIPv6: boolean;
  readonly clusterDefaultIPv4IPPool: readonly string[];
  readonly clusterDefaultIPv6IPPool: readonly string[];
  readonly enableStatefulSet: boolean;
  readonly enableSpiderSubnet: boolean;
  /** Spare addresses of an auto pool when `ippool-ip-number` is absent. */
  readonly clusterSubnetDefaultFlexibleIPNumber: number;
  /**
   * (ext) Node-affine pools: `constrain` reserves at admission and adds the pool's node
   * affinity to the Pod; `defer` leaves them to CNI time on the node the scheduler chose.
   */
  readonly nodeAffinePools: "constrain" | "defer";
  /** (ext) The Multus network of eth0 when a Pod does not name one (for multusName pools). */
  readonly clusterDefaultNetwork?: NetworkRef;
  /**
   * Spiderpool's reclamation keys; each one given here wins over the controller's setting of
   * the same meaning (see GcSettings), absent ones leave that setting in force.
   */
  readonly enableGCIP?: boolean;
  readonly enableGCStatelessTerminatingPodOnReadyNode?: boolean;
  readonly enableGCStatelessTerminatingPodOnNotReadyNode?: boolean;
  /** Seconds between full scans. */
  readonly gcIPInterval?: number;
  /** Seconds a terminating Pod's addresses are kept past its grace period. */
  readonly gcAdditionalGraceDelay?: number;
}

/** How reclamation behaves: the controller's settings, overridden key by key by conf.yml. */
export interface GcSettings {
  /** Whether anything is reclaimed at all (bindings and the checker go on). */
  readonly enabled: boolean;
  readonly terminatingOnReadyNode: boolean;
  readonly terminatingOnNotReadyNode: boolean;
  /** Between two full scans. */
  readonly intervalMs: number;
  /** Kept past a terminating Pod's deletionTimestamp (the end of its grace period). */
  readonly additionalGraceDelayMs: number;
}

/** Spiderpool's defaults: everything on, a full scan every 10 minutes, no delay past the grace period. */
export const DEFAULT_GC_SETTINGS: GcSettings = Object.freeze({
  enabled: true,
  terminatingOnReadyNode: true,
  terminatingOnNotReadyNode: true,
  intervalMs: 600_000,
  additionalGraceDelayMs: 0,
});

/** The GC settings in force: conf.yml's keys where given, else the controller's. */
export function effectiveGc(base: GcSettings, c: ClusterConfig): GcSettings {
  return {
    enabled: c.enableGCIP ?? base.enabled,
    terminatingOnReadyNode: c.enableGCStatelessTerminatingPodOnReadyNode ?? base.terminatingOnReadyNode,
    terminatingOnNotReadyNode: c.enableGCStatelessTerminatingPodOnNotReadyNode ?? base.terminatingOnNotReadyNode,
    intervalMs: c.gcIPInterval !== undefined ? c.gcIPInterval * 1000 : base.intervalMs,
    additionalGraceDelayMs: c.gcAdditionalGraceDelay !== undefined ? c.gcAdditionalGraceDelay * 1000 : base.additionalGraceDelayMs,
  };
}

export const DEFAULT_CLUSTER_CONFIG: ClusterConfig = Object.freeze({
  enableIPv4: true,
  enableIPv6: false,
  clusterDefaultIPv4IPPool: Object.freeze([]),
  clusterDefaultIPv6IPPool: Object.freeze([]),
  enableStatefulSet: true,
  enableSpiderSubnet: true,
  clusterSubnetDefaultFlexibleIPNumber: 1,
  nodeAffinePools: "constrain",
});

const GC_KEYS = ["enableGCIP", "enableGCStatelessTerminatingPodOnReadyNode", "enableGCStatelessTerminatingPodOnNotReadyNode", "gcIPInterval", "gcAdditionalGraceDelay"] as const;

/** Every key of conf.yml this project reads (the chart's values.yaml sets each one). */
export const CLUSTER_CONFIG_KEYS: readonly string[] = Object.freeze([...Object.keys(DEFAULT_CLUSTER_CONFIG), "clusterDefaultNetwork", ...GC_KEYS]);

const KNOWN = new Set(CLUSTER_CONFIG_KEYS);

/**
 * Reads one key of conf.yml: the value to use (undefined: leave the key out), after noting
 * in `errors` why a value given is refused.
 */
type FieldParser<T> = (value: unknown, key: string, errors: string[]) => T;

type FlagKey = "enableIPv4" | "enableIPv6" | "enableStatefulSet" | "enableSpiderSubnet";

const flag: FieldParser<boolean> = (v, key, errors) => {
  if (v === undefined) return DEFAULT_CLUSTER_CONFIG[key as FlagKey];
  if (typeof v !== "boolean") errors.push(`${key} is ${JSON.stringify(v)}; use true or false`);
  return v === true;
};

const poolNames: FieldParser<readonly string[]> = (v, key, errors) => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || x === "")) {
    errors.push(`${key} is ${JSON.stringify(v)}; use a list of pool names`);
    return [];
  }
  return Object.freeze([...(v as string[])]);
};

const spareCount: FieldParser<number> = (v, key, errors) => {
  const spare = v ?? 1;
  if (typeof spare === "number" && Number.isInteger(spare) && spare >= 0) return spare;
  errors.push(`${key} is ${JSON.stringify(spare)}; use a whole number >= 0`);
  return 1;
};

const affineMode: FieldParser<ClusterConfig["nodeAffinePools"]> = (v, key, errors) => {
  const mode = v ?? "constrain";
  if (mode !== "constrain" && mode !== "defer") errors.push(`${key} is ${JSON.stringify(mode)}; use constrain or defer`);
  return mode === "defer" ? "defer" : "constrain";
};

const networkRef: FieldParser<NetworkRef | undefined> = (v, key, errors) => {
  if (v === undefined) return undefined;
  const m = typeof v === "string" ? /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(v) : null;
  if (m?.[1] && m[2]) return { namespace: m[1], name: m[2] };
  errors.push(`${key} is ${JSON.stringify(v)}; use namespace/name of a NetworkAttachmentDefinition`);
  return undefined;
};

const optionalFlag: FieldParser<boolean | undefined> = (v, key, errors) => {
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") errors.push(`${key} is ${JSON.stringify(v)}; use true or false`);
  return v === true;
};

const optionalSeconds: FieldParser<number | undefined> = (v, key, errors) => {
  if (v === undefined) return undefined;
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
  errors.push(`${key} is ${JSON.stringify(v)}; use a whole number of seconds >= 0`);
  return undefined;
};

/** Every key's parser (the type makes sure no key lacks one). */
const FIELD_PARSERS: { readonly [K in keyof ClusterConfig]-?: FieldParser<ClusterConfig[K]> } = {
  enableIPv4: flag,
  enableIPv6: flag,
  clusterDefaultIPv4IPPool: poolNames,
  clusterDefaultIPv6IPPool: poolNames,
  enableStatefulSet: flag,
  enableSpiderSubnet: flag,
  clusterSubnetDefaultFlexibleIPNumber: spareCount,
  nodeAffinePools: affineMode,
  clusterDefaultNetwork: networkRef,
  enableGCIP: optionalFlag,
  enableGCStatelessTerminatingPodOnReadyNode: optionalFlag,
  enableGCStatelessTerminatingPodOnNotReadyNode: optionalFlag,
  gcIPInterval: optionalSeconds,
  gcAdditionalGraceDelay: optionalSeconds,
};

/**
 * Validates a parsed `conf.yml` (any YAML mapping). Unknown keys are kept out and
 * reported as warnings (Spiderpool's file has more keys than this project uses); wrong
 * types are errors naming the key and what it takes.
 */
export function parseClusterConfig(raw: unknown): { config: ClusterConfig; errors: string[]; ignored: string[] } {
  const errors: string[] = [];
  const ignored: string[] = [];
  const src = (raw ?? {}) as Record<string, unknown>;
  if (typeof src !== "object" || Array.isArray(src)) return { config: DEFAULT_CLUSTER_CONFIG, errors: ["conf.yml is not a YAML mapping"], ignored };
  for (const k of Object.keys(src)) if (!KNOWN.has(k)) ignored.push(k);
  const read = <K extends keyof ClusterConfig>(key: K): ClusterConfig[K] => (FIELD_PARSERS[key] as FieldParser<ClusterConfig[K]>)(src[key], key, errors);
  // Read in this order so that errors keep the order they have always been reported in.
  const clusterSubnetDefaultFlexibleIPNumber = read("clusterSubnetDefaultFlexibleIPNumber");
  const nodeAffinePools = read("nodeAffinePools");
  const clusterDefaultNetwork = read("clusterDefaultNetwork");
  const gc: Partial<Pick<ClusterConfig, (typeof GC_KEYS)[number]>> = {};
  for (const k of GC_KEYS) {
    const v = read(k);
    if (v !== undefined) Object.assign(gc, { [k]: v });
  }
  if (gc.gcIPInterval === 0) errors.push("gcIPInterval is 0; use a whole number of seconds >= 1");
  const config: ClusterConfig = Object.freeze({
    enableIPv4: read("enableIPv4"),
    enableIPv6: read("enableIPv6"),
    clusterDefaultIPv4IPPool: read("clusterDefaultIPv4IPPool"),
    clusterDefaultIPv6IPPool: read("clusterDefaultIPv6IPPool"),
    enableStatefulSet: read("enableStatefulSet"),
    enableSpiderSubnet: read("enableSpiderSubnet"),
    clusterSubnetDefaultFlexibleIPNumber,
    nodeAffinePools,
    ...(clusterDefaultNetwork ? { clusterDefaultNetwork } : {}),
    ...gc,
  });
  if (!config.enableIPv4 && !config.enableIPv6) errors.push("enableIPv4 and enableIPv6 are both false; enable at least one family");
  return { config, errors, ignored };
}
