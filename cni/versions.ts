/**
 * CNI spec versions this plugin speaks, and which command each needs. Versions are compared
 * by their position in SUPPORTED_VERSIONS, so an unknown version is never "between" two.
 */
import { CniError } from "./errors.js";
import { CNI_ERROR_CODES } from "./protocol.js";

export const SUPPORTED_VERSIONS = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const NEWEST_VERSION: CniVersion = "1.1.0";

export const COMMANDS = ["ADD", "DEL", "CHECK", "VERSION", "GC", "STATUS"] as const;
export type CniCommand = (typeof COMMANDS)[number];

/** The first spec version that has each command (VERSION exists in all of ours). */
export const MIN_VERSION: Readonly<Record<CniCommand, CniVersion>> = {
  ADD: "0.3.0",
  DEL: "0.3.0",
  VERSION: "0.3.0",
  CHECK: "0.4.0",
  GC: "1.1.0",
  STATUS: "1.1.0",
};

export function isSupportedVersion(v: unknown): v is CniVersion {
  return typeof v === "string" && (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

export function isCommand(c: string): c is CniCommand {
  return (COMMANDS as readonly string[]).includes(c);
}

export function atLeast(v: CniVersion, min: CniVersion): boolean {
  return SUPPORTED_VERSIONS.indexOf(v) >= SUPPORTED_VERSIONS.indexOf(min);
}

/** 0.3.x and 0.4.0 results carry `version` on each IP; 1.0.0 removed it. */
export function ipsCarryVersion(v: CniVersion): boolean {
  return !atLeast(v, "1.0.0");
}

/**
 * The config's cniVersion must be one we speak, and new enough for the command.
 * A missing cniVersion means 0.1.0 to libcni, which we do not speak either.
 */
export function checkVersion(raw: unknown, command: CniCommand): CniVersion {
  if (raw !== undefined && typeof raw !== "string") {
    throw new CniError(CNI_ERROR_CODES.DECODING_FAILURE, "cniVersion must be a string", `got ${JSON.stringify(raw)}`);
  }
  const given = raw === undefined || raw === "" ? "0.1.0 (cniVersion missing)" : raw;
  if (!isSupportedVersion(raw)) {
    throw new CniError(
      CNI_ERROR_CODES.INCOMPATIBLE_VERSION,
      "incompatible CNI versions",
      `config is ${given}, plugin supports ${SUPPORTED_VERSIONS.join(", ")}`,
    );
  }
  const min = MIN_VERSION[command];
  if (!atLeast(raw, min)) {
    throw new CniError(
      CNI_ERROR_CODES.INCOMPATIBLE_VERSION,
      `config version does not allow ${command}`,
      `${command} needs cniVersion ${min} or newer, the config has ${raw}`,
    );
  }
  return raw;
}

/** The VERSION answer: the version the runtime asked about when we speak it, else our newest. */
export function versionReport(requested: unknown): { cniVersion: CniVersion; supportedVersions: CniVersion[] } {
  return {
    cniVersion: isSupportedVersion(requested) ? requested : NEWEST_VERSION,
    supportedVersions: [...SUPPORTED_VERSIONS],
  };
}

/** VERSION's stdin is `{"cniVersion": ...}` from newer runtimes, empty from older ones. */
export function requestedVersion(stdin: string): unknown {
  try {
    const raw: unknown = JSON.parse(stdin);
    return typeof raw === "object" && raw !== null ? (raw as { cniVersion?: unknown }).cniVersion : undefined;
  } catch {
    return undefined;
  }
}
