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

const KNOWN = new Set([...Object.keys(DEFAULT_CLUSTER_CONFIG), "clusterDefaultNetwork"]);

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
  const bool = (k: keyof ClusterConfig): boolean => {
    const v = src[k];
    if (v === undefined) return DEFAULT_CLUSTER_CONFIG[k] as boolean;
    if (typeof v !== "boolean") errors.push(`${k} is ${JSON.stringify(v)}; use true or false`);
    return v === true;
  };
  const names = (k: "clusterDefaultIPv4IPPool" | "clusterDefaultIPv6IPPool"): readonly string[] => {
    const v = src[k];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || x === "")) {
      errors.push(`${k} is ${JSON.stringify(v)}; use a list of pool names`);
      return [];
    }
    return Object.freeze([...(v as string[])]);
  };
  const spare = src.clusterSubnetDefaultFlexibleIPNumber ?? 1;
  if (typeof spare !== "number" || !Number.isInteger(spare) || spare < 0) {
    errors.push(`clusterSubnetDefaultFlexibleIPNumber is ${JSON.stringify(spare)}; use a whole number >= 0`);
  }
  const mode = src.nodeAffinePools ?? "constrain";
  if (mode !== "constrain" && mode !== "defer") errors.push(`nodeAffinePools is ${JSON.stringify(mode)}; use constrain or defer`);
  let clusterDefaultNetwork: NetworkRef | undefined;
  const net = src.clusterDefaultNetwork;
  if (net !== undefined) {
    const m = typeof net === "string" ? /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(net) : null;
    if (m?.[1] && m[2]) clusterDefaultNetwork = { namespace: m[1], name: m[2] };
    else errors.push(`clusterDefaultNetwork is ${JSON.stringify(net)}; use namespace/name of a NetworkAttachmentDefinition`);
  }
  const config: ClusterConfig = Object.freeze({
    enableIPv4: bool("enableIPv4"),
    enableIPv6: bool("enableIPv6"),
    clusterDefaultIPv4IPPool: names("clusterDefaultIPv4IPPool"),
    clusterDefaultIPv6IPPool: names("clusterDefaultIPv6IPPool"),
    enableStatefulSet: bool("enableStatefulSet"),
    enableSpiderSubnet: bool("enableSpiderSubnet"),
    clusterSubnetDefaultFlexibleIPNumber: typeof spare === "number" && Number.isInteger(spare) && spare >= 0 ? spare : 1,
    nodeAffinePools: mode === "defer" ? "defer" : "constrain",
    ...(clusterDefaultNetwork ? { clusterDefaultNetwork } : {}),
  });
  if (!config.enableIPv4 && !config.enableIPv6) errors.push("enableIPv4 and enableIPv6 are both false; enable at least one family");
  return { config, errors, ignored };
}
