/**
 * The network config on stdin, decoded and validated once into a frozen NetConf.
 * Pure: text in, value or CniError out.
 */
import { CniError, invalidConfig } from "./errors.js";
import { LOG_LEVELS, type LogLevel } from "./log.js";
import { type Attachment, CNI_ERROR_CODES, DEFAULT_AGENT_SOCKET_PATH } from "./protocol.js";
import { type CniCommand, type CniVersion, checkVersion } from "./versions.js";

export const IPAM_TYPE = "spiderpool";

export interface IpamConf {
  logLevel: LogLevel;
  logFilePath?: string;
  /** Rotate the log file past this many MiB (0: never). */
  logFileMaxSizeMiB: number;
  /** Rotated files kept beside the log file. */
  logFileMaxCount: number;
  defaultIPv4IPPool: string[];
  defaultIPv6IPPool: string[];
  cleanGateway: boolean;
  socketPath: string;
}

export interface NetConf {
  cniVersion: CniVersion;
  name: string;
  ipam: IpamConf;
  /** CHECK: the runtime's cached ADD result, forwarded to the agent as is. */
  prevResult?: unknown;
  /** GC only: the attachments the runtime still knows. */
  validAttachments?: Attachment[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The keys the `ipam` stanza may carry; the log_file_max_* keys are Spiderpool's. */
const IPAM_KEYS = new Set([
  "type",
  "log_level",
  "log_file_path",
  "log_file_max_size",
  "log_file_max_age",
  "log_file_max_count",
  "default_ipv4_ippool",
  "default_ipv6_ippool",
  "clean_gateway",
  "ipam_unix_socket_path",
]);

export function decodeConfig(stdin: string): Json {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (err) {
    throw new CniError(
      CNI_ERROR_CODES.DECODING_FAILURE,
      "failed to decode the network config on stdin",
      err instanceof Error ? err.message : String(err),
    );
  }
  if (!isObject(raw)) {
    throw new CniError(CNI_ERROR_CODES.DECODING_FAILURE, "the network config on stdin is not a JSON object");
  }
  return raw;
}

export function parseNetConf(stdin: string, command: CniCommand): NetConf {
  const raw = decodeConfig(stdin);
  const cniVersion = checkVersion(raw.cniVersion, command);
  if (typeof raw.name !== "string" || raw.name === "") throw invalidConfig("missing network name");
  const conf: NetConf = { cniVersion, name: raw.name, ipam: parseIpam(raw.ipam) };
  if (command === "CHECK" && raw.prevResult !== undefined) conf.prevResult = raw.prevResult;
  if (command === "GC") conf.validAttachments = parseValidAttachments(raw);
  return Object.freeze(conf);
}

export function parseIpam(raw: unknown): IpamConf {
  if (raw === undefined) throw invalidConfig("missing ipam: the network config has no 'ipam' stanza");
  if (!isObject(raw)) throw invalidConfig("ipam must be an object");
  if (raw.type !== IPAM_TYPE) {
    throw invalidConfig(`ipam.type is ${JSON.stringify(raw.type)}, this plugin is "${IPAM_TYPE}"`);
  }
  for (const [key, value] of Object.entries(raw)) {
    if (!IPAM_KEYS.has(key)) {
      // The spec wants the key and value named; a typo here would otherwise silently
      // fall back to the cluster's default pools.
      throw new CniError(
        CNI_ERROR_CODES.UNSUPPORTED_FIELD,
        `unsupported field ipam.${key}`,
        `ipam.${key}=${JSON.stringify(value)}; known fields: ${[...IPAM_KEYS].join(", ")}`,
      );
    }
  }
  const level = optionalString(raw, "log_level") ?? "info";
  const logLevel = normaliseLevel(level);
  if (logLevel === undefined) {
    throw invalidConfig(`ipam.log_level is "${level}"`, `expected one of ${LOG_LEVELS.join(", ")} (any case)`);
  }
  const conf: IpamConf = {
    logLevel,
    logFileMaxSizeMiB: optionalCount(raw, "log_file_max_size") ?? 100,
    logFileMaxCount: optionalCount(raw, "log_file_max_count") ?? 10,
    defaultIPv4IPPool: poolList(raw, "default_ipv4_ippool"),
    defaultIPv6IPPool: poolList(raw, "default_ipv6_ippool"),
    cleanGateway: optionalBoolean(raw, "clean_gateway") ?? false,
    socketPath: optionalString(raw, "ipam_unix_socket_path") || DEFAULT_AGENT_SOCKET_PATH,
  };
  optionalCount(raw, "log_file_max_age"); // accepted for Spiderpool configs; age is not used
  const logFilePath = optionalString(raw, "log_file_path");
  if (logFilePath) conf.logFilePath = logFilePath;
  if (!conf.socketPath.startsWith("/")) {
    throw invalidConfig(`ipam.ipam_unix_socket_path must be an absolute path, got "${conf.socketPath}"`);
  }
  return conf;
}

function normaliseLevel(level: string): LogLevel | undefined {
  const lower = level.toLowerCase();
  if (lower === "warning") return "warn";
  if (lower === "fatal" || lower === "panic") return "error";
  return (LOG_LEVELS as readonly string[]).includes(lower) ? (lower as LogLevel) : undefined;
}

function optionalString(raw: Json, key: string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw invalidConfig(`ipam.${key} must be a string`, `got ${JSON.stringify(v)}`);
  return v;
}

function optionalBoolean(raw: Json, key: string): boolean | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw invalidConfig(`ipam.${key} must be true or false`, `got ${JSON.stringify(v)}`);
  return v;
}

function optionalCount(raw: Json, key: string): number | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw invalidConfig(`ipam.${key} must be a whole number, 0 or more`, `got ${JSON.stringify(v)}`);
  }
  return v;
}

function poolList(raw: Json, key: string): string[] {
  const v = raw[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((name): name is string => typeof name === "string" && name !== "")) {
    throw invalidConfig(`ipam.${key} must be a list of pool names`, `got ${JSON.stringify(v)}, e.g. ["default-v4-ippool"]`);
  }
  return [...v];
}

/**
 * GC's list of attachments still in use. The 1.1.0 text calls it `cni.dev/valid-attachments`;
 * an earlier draft said `cni.dev/attachments`, and libcni sends both. Absent means the
 * runtime did not say what is valid: refuse rather than treat it as "nothing is".
 */
export function parseValidAttachments(raw: Json): Attachment[] {
  const key = raw["cni.dev/valid-attachments"] !== undefined ? "cni.dev/valid-attachments" : "cni.dev/attachments";
  const list = raw[key];
  if (list === undefined) {
    throw invalidConfig("GC without cni.dev/valid-attachments", "the runtime must list the attachments that are still valid");
  }
  if (!Array.isArray(list)) throw invalidConfig(`${key} must be a list`, `got ${JSON.stringify(list)}`);
  return list.map((item, i): Attachment => {
    if (!isObject(item) || typeof item.containerID !== "string" || item.containerID === "" || typeof item.ifname !== "string") {
      throw invalidConfig(`${key}[${i}] must be {"containerID": string, "ifname": string}`, `got ${JSON.stringify(item)}`);
    }
    return { containerID: item.containerID, ifname: item.ifname };
  });
}
