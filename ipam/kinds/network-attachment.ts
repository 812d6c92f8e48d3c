import type { NetworkRef, ObjectMeta } from "./meta.js";

/** Multus's NetworkAttachmentDefinition (k8s.cni.cncf.io/v1): a named CNI network config. */
export const NAD_GROUP = "k8s.cni.cncf.io";
export const NAD_VERSION = "v1";
export const NAD_API_VERSION = `${NAD_GROUP}/${NAD_VERSION}`;
export const NAD_KIND = "NetworkAttachmentDefinition";
export const NAD_PLURAL = "network-attachment-definitions";

export interface NetworkAttachmentDefinition {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  /** `config` is the CNI network config (one plugin, or a list under `plugins`) as JSON text. */
  spec?: { config?: string };
}

/** Pool names per family from a CNI config's `default_ipv4_ippool` / `default_ipv6_ippool`. */
export interface CniDefaults {
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
}

/**
 * What a network's CNI config says about addresses:
 * - spiderpool: its IPAM is this project, with the config's default pools and clean_gateway;
 * - other: another IPAM (or none), so its NIC is not Spiderpool's;
 * - unknown: the config cannot be read here (empty: Multus reads a file on the node; not JSON).
 */
export type NetworkIpam =
  | { readonly kind: "spiderpool"; readonly defaults: CniDefaults; readonly cleanGateway: boolean }
  | { readonly kind: "other"; readonly ipamType?: string }
  | { readonly kind: "unknown"; readonly why: string };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function names(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string" && x !== "") : [];
}

/** The plugins of a config: a list's `plugins`, or the config itself when it is one plugin. */
function pluginsOf(config: Json): Json[] {
  return Array.isArray(config.plugins) ? config.plugins.filter(isObject) : [config];
}

/** Reads a CNI network config's IPAM (the first plugin with an `ipam` stanza decides). */
export function cniConfigIpam(text: string | undefined): NetworkIpam {
  if (text === undefined || text.trim() === "") return { kind: "unknown", why: "its config is empty (Multus then reads it from a file on the node)" };
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    return { kind: "unknown", why: "its config is not valid JSON" };
  }
  if (!isObject(config)) return { kind: "unknown", why: "its config is not a JSON object" };
  const ipam = pluginsOf(config).map((p) => p.ipam).find(isObject);
  if (ipam?.type !== "spiderpool") return { kind: "other", ...(typeof ipam?.type === "string" ? { ipamType: ipam.type } : {}) };
  return {
    kind: "spiderpool",
    defaults: { ipv4: names(ipam.default_ipv4_ippool), ipv6: names(ipam.default_ipv6_ippool) },
    cleanGateway: ipam.clean_gateway === true,
  };
}

export function networkIpam(nad: NetworkAttachmentDefinition): NetworkIpam {
  return cniConfigIpam(nad.spec?.config);
}

/**
 * The cluster's primary network, the one of every Pod's eth0 unless the Pod names another
 * with `v1.multus-cni.io/default-network`:
 * - "spiderpool": its IPAM is this project (a macvlan/ipvlan-only cluster);
 * - "other": another plugin serves eth0 (Calico, Cilium, ...), so eth0 is never Spiderpool's;
 * - a NetworkAttachmentDefinition (Multus's clusterNetwork): its config decides.
 */
export type PrimaryNetwork = "spiderpool" | "other" | NetworkRef;

const REF = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/;

/** Parses the primary-network setting; undefined when the text is none of its forms. */
export function parsePrimaryNetwork(text: string): PrimaryNetwork | undefined {
  if (text === "spiderpool" || text === "other") return text;
  const m = REF.exec(text);
  return m?.[1] && m[3] ? { namespace: m[1], name: m[3] } : undefined;
}
