/**
 * The coordinator's network config: Spiderpool's field names (its CNI config and the
 * SpiderCoordinator/SpiderMultusConfig `coordinator` section, which spell a few fields
 * differently), decoded and validated once into a frozen CoordinatorConf. Pure.
 *
 * An unknown field is refused with code 2 naming it, as the IPAM plugin does: a misspelt
 * `serviceCIDR` would otherwise leave Pods without Service access and nobody would know.
 */
import { type Cidr, networkOf, parseCidr } from "./addr.js";
import { decodeConfig, parseValidAttachments } from "../config.js";
import { CniError, invalidConfig } from "../errors.js";
import { LOG_LEVELS, type LogLevel } from "../log.js";
import { type Attachment, CNI_ERROR_CODES } from "../protocol.js";
import { type CniCommand, type CniVersion, checkVersion } from "../versions.js";
import { ipFamily } from "../address-syntax.js";

export const COORDINATOR_TYPE = "coordinator";
export const DEFAULT_AGENT_SOCKET = "/var/run/spidernet/spiderpool.sock";

export type Mode = "underlay" | "overlay" | "auto" | "disabled";

export interface DetectOptions {
  retries: number;
  intervalMs: number;
  timeoutMs: number;
}

export interface LogOptions {
  level: LogLevel;
  file?: string;
  maxSizeMiB: number;
  maxCount: number;
}

/** Settings that SpiderCoordinator may default cluster-wide (undefined: not set here). */
export interface Tunables {
  mode?: Mode;
  tunePodRoutes?: boolean;
  podDefaultRouteNIC?: string;
  detectGateway?: boolean;
  detectIPConflict?: boolean;
  podMACPrefix?: string;
  serviceCIDR?: Cidr[];
  overlayPodCIDR?: Cidr[];
  hijackCIDR?: Cidr[];
  hostRuleTable?: number;
  hostRPFilter?: number;
  podRPFilter?: number;
  txQueueLen?: number;
  vethLinkAddress?: string;
  vethMTU?: number;
}

export interface CoordinatorConf {
  cniVersion: CniVersion;
  name: string;
  tunables: Tunables;
  podDefaultCniNic: string;
  detect: DetectOptions;
  log: LogOptions;
  /** Where to ask spiderpool-agent for the cluster defaults and the Pod's annotation; "" = do not ask. */
  agentSocketPath: string;
  prevResult?: unknown;
  validAttachments?: Attachment[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Keys every network config may carry (the spec's, and what runtimes and Multus add). */
const STANDARD_KEYS = ["cniVersion", "name", "type", "prevResult", "runtimeConfig", "capabilities", "args", "dns", "ipam", "cni.dev/valid-attachments", "cni.dev/attachments"];

/** The coordinator's fields. `podCIDRType` and `multusNicPrefix` are accepted and not used (docs/coordinator.md). */
export const FIELD_KEYS = [
  "mode", "tuneMode", "tunePodRoutes", "podDefaultRouteNic", "podDefaultRouteNIC", "podDefaultCniNic", "multusNicPrefix",
  "detectGateway", "detectIPConflict", "detectOptions", "podMACPrefix", "overlayPodCIDR", "serviceCIDR", "hijackCIDR",
  "hostRuleTable", "hostRPFilter", "podRPFilter", "txQueueLen", "vethLinkAddress", "vethMTU", "podCIDRType", "logOptions", "agentSocketPath",
];
const KNOWN = new Set([...STANDARD_KEYS, ...FIELD_KEYS]);

export function parseCoordinatorConf(stdin: string, command: CniCommand): CoordinatorConf {
  const raw = decodeConfig(stdin);
  const cniVersion = checkVersion(raw.cniVersion, command);
  if (typeof raw.name !== "string" || raw.name === "") throw invalidConfig("missing network name");
  if (raw.type !== COORDINATOR_TYPE) throw invalidConfig(`type is ${JSON.stringify(raw.type)}, this plugin is "${COORDINATOR_TYPE}"`);
  for (const [key, value] of Object.entries(raw)) {
    if (!KNOWN.has(key)) {
      throw new CniError(CNI_ERROR_CODES.UNSUPPORTED_FIELD, `unsupported field ${key}`, `${key}=${JSON.stringify(value)}; known fields: ${FIELD_KEYS.join(", ")}`);
    }
  }
  const conf: CoordinatorConf = {
    cniVersion,
    name: raw.name,
    tunables: parseTunables(raw),
    podDefaultCniNic: interfaceName(raw, "podDefaultCniNic") ?? "eth0",
    detect: parseDetectOptions(raw.detectOptions),
    log: parseLogOptions(raw.logOptions),
    agentSocketPath: optional(raw, "agentSocketPath", "string") ?? DEFAULT_AGENT_SOCKET,
  };
  if (conf.agentSocketPath !== "" && !conf.agentSocketPath.startsWith("/")) throw invalidConfig(`agentSocketPath must be an absolute path or "", got "${conf.agentSocketPath}"`);
  if (raw.prevResult !== undefined) conf.prevResult = raw.prevResult;
  else if (command === "ADD" || command === "CHECK") throw notChained(command);
  if (command === "GC") conf.validAttachments = parseValidAttachments(raw);
  return Object.freeze(conf);
}

export const notChained = (command: string): CniError =>
  invalidConfig(`${command} without prevResult`, "the coordinator is a chained plugin: list it after the main plugin (macvlan, ipvlan, sriov) in the plugins list");

/** The fields SpiderCoordinator can also set; the agent's answer goes through this too. */
export function parseTunables(raw: Json, where = ""): Tunables {
  const t: Tunables = {};
  const set = <K extends keyof Tunables>(key: K, value: Tunables[K] | undefined): void => {
    if (value !== undefined) t[key] = value;
  };
  set("mode", parseMode(raw, where));
  set("tunePodRoutes", optional(raw, "tunePodRoutes", "boolean", where));
  set("podDefaultRouteNIC", interfaceName(raw, "podDefaultRouteNIC", where) ?? interfaceName(raw, "podDefaultRouteNic", where));
  set("detectGateway", optional(raw, "detectGateway", "boolean", where));
  set("detectIPConflict", optional(raw, "detectIPConflict", "boolean", where));
  set("podMACPrefix", macPrefix(raw, where));
  for (const key of ["serviceCIDR", "overlayPodCIDR", "hijackCIDR"] as const) set(key, cidrList(raw, key, where));
  set("hostRuleTable", integer(raw, "hostRuleTable", [1, 0xfffffffe], where));
  set("hostRPFilter", integer(raw, "hostRPFilter", [-1, 2], where));
  set("podRPFilter", integer(raw, "podRPFilter", [-1, 2], where));
  set("txQueueLen", integer(raw, "txQueueLen", [0, 0x7fffffff], where));
  set("vethMTU", integer(raw, "vethMTU", [0, 65535], where));
  const veth = optional(raw, "vethLinkAddress", "string", where);
  if (veth !== undefined && veth !== "") {
    if (ipFamily(veth) === undefined) throw invalidConfig(`${where}vethLinkAddress must be an IP address`, `got "${veth}", e.g. "169.254.100.1"`);
    t.vethLinkAddress = veth;
  }
  return t;
}

function parseMode(raw: Json, where: string): Mode | undefined {
  // Spiderpool's CNI config says `mode`; its older CRDs said `tuneMode`; its Go code spells "disable".
  const value = optional(raw, "mode", "string", where) ?? optional(raw, "tuneMode", "string", where);
  if (value === undefined || value === "") return undefined;
  if (value === "disable") return "disabled";
  if (value === "underlay" || value === "overlay" || value === "auto" || value === "disabled") return value;
  throw invalidConfig(`${where}mode is "${value}"`, "expected underlay, overlay, auto or disabled");
}

type Kind = { string: string; boolean: boolean };

function optional<K extends keyof Kind>(raw: Json, key: string, kind: K, where = ""): Kind[K] | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== kind) throw invalidConfig(`${where}${key} must be a ${kind}`, `got ${JSON.stringify(v)}`);
  return v as Kind[K];
}

function integer(raw: Json, key: string, [min, max]: [number, number], where: string): number | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw invalidConfig(`${where}${key} must be a whole number from ${min} to ${max}`, `got ${JSON.stringify(v)}`);
  }
  return v;
}

function interfaceName(raw: Json, key: string, where = ""): string | undefined {
  const v = optional(raw, key, "string", where);
  if (v === undefined || v === "") return undefined;
  if (v.length > 15 || /[/:\s]/.test(v)) throw invalidConfig(`${where}${key} is not an interface name`, `got "${v}"`);
  return v;
}

function cidrList(raw: Json, key: string, where: string): Cidr[] | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw invalidConfig(`${where}${key} must be a list of CIDRs`, `got ${JSON.stringify(v)}`);
  return v.map((item, i) => {
    const c = typeof item === "string" && item.includes("/") ? parseCidr(item.trim()) : undefined;
    if (c === undefined) throw invalidConfig(`${where}${key}[${i}] is not a CIDR`, `got ${JSON.stringify(item)}, e.g. "10.233.0.0/18"`);
    const [ip = "", prefix = 0] = networkOf(c).split("/");
    return { family: c.family, ip, prefix: Number(prefix) };
  });
}

function macPrefix(raw: Json, where: string): string | undefined {
  const v = optional(raw, "podMACPrefix", "string", where);
  if (v === undefined || v === "") return undefined;
  // Two bytes; the first must be unicast (its lowest bit clear), as Spiderpool requires.
  if (!/^[0-9a-fA-F][02468aceACE][:-][0-9a-fA-F]{2}$/.test(v)) {
    throw invalidConfig(`${where}podMACPrefix is "${v}"`, 'expected two bytes of a unicast MAC, e.g. "0a:1b"');
  }
  return v.replace("-", ":").toLowerCase();
}

function parseDuration(text: unknown, key: string): number {
  const m = typeof text === "string" ? /^(\d+(?:\.\d+)?)(ms|s)$/.exec(text) : null;
  if (!m) throw invalidConfig(`detectOptions.${key} must be a duration such as "100ms" or "1s"`, `got ${JSON.stringify(text)}`);
  return Math.round(Number(m[1]) * (m[2] === "s" ? 1000 : 1));
}

function parseDetectOptions(raw: unknown): DetectOptions {
  const out: DetectOptions = { retries: 3, intervalMs: 100, timeoutMs: 500 };
  if (raw === undefined || raw === null) return out;
  if (!isObject(raw)) throw invalidConfig("detectOptions must be an object", `got ${JSON.stringify(raw)}`);
  const retries = integer(raw, "retries", [0, 100], "detectOptions.");
  if (retries !== undefined && retries > 0) out.retries = retries;
  if (raw.interval !== undefined && raw.interval !== "") out.intervalMs = parseDuration(raw.interval, "interval");
  if (raw.timeout !== undefined && raw.timeout !== "") out.timeoutMs = parseDuration(raw.timeout, "timeout");
  return out;
}

function parseLogOptions(raw: unknown): LogOptions {
  const out: LogOptions = { level: "info", maxSizeMiB: 100, maxCount: 10 };
  if (raw === undefined || raw === null) return out;
  if (!isObject(raw)) throw invalidConfig("logOptions must be an object", `got ${JSON.stringify(raw)}`);
  const level = optional(raw, "logLevel", "string", "logOptions.");
  if (level !== undefined && level !== "") {
    const lower = level.toLowerCase() === "warning" ? "warn" : level.toLowerCase();
    if (!(LOG_LEVELS as readonly string[]).includes(lower)) throw invalidConfig(`logOptions.logLevel is "${level}"`, `expected one of ${LOG_LEVELS.join(", ")}`);
    out.level = lower as LogLevel;
  }
  const file = optional(raw, "logFile", "string", "logOptions.");
  if (file !== undefined && file !== "") out.file = file;
  out.maxSizeMiB = integer(raw, "logMaxSize", [0, 1 << 20], "logOptions.") ?? out.maxSizeMiB;
  out.maxCount = integer(raw, "logMaxCount", [0, 1000], "logOptions.") ?? out.maxCount;
  integer(raw, "logMaxAge", [0, 1 << 20], "logOptions."); // accepted for Spiderpool configs; age is not used
  return out;
}
