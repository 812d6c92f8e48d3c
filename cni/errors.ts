/**
 * The plugin's one error type. Whatever goes wrong ends as a CniError, printed once by
 * plugin.ts as the spec's error JSON; nothing else reaches stdout on failure.
 */
import { CNI_ERROR_CODES } from "./protocol.js";

export class CniError extends Error {
  readonly code: number;
  readonly details: string;

  constructor(code: number, msg: string, details = "") {
    super(msg);
    this.name = "CniError";
    this.code = code;
    this.details = details;
  }
}

/** The spec's error object, in the config's version (the shape is the same in every version). */
export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

export function errorJson(cniVersion: string, err: CniError): CniErrorJson {
  const out: CniErrorJson = { cniVersion, code: err.code, msg: err.message };
  if (err.details !== "") out.details = err.details;
  return out;
}

/** Anything thrown that is not a CniError is a bug in the plugin: say so rather than guess a code. */
export function asCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  const { stack } = (err ?? {}) as { stack?: unknown };
  const text = typeof stack === "string" ? stack : String(err);
  return new CniError(CNI_ERROR_CODES.PLUGIN_INTERNAL, "internal error in the spiderpool plugin", text);
}

export const invalidEnv = (msg: string, details = ""): CniError =>
  new CniError(CNI_ERROR_CODES.INVALID_ENVIRONMENT, msg, details);

export const invalidConfig = (msg: string, details = ""): CniError =>
  new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, msg, details);
