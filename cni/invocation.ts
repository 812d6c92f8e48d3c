/**
 * The start of every plugin run, shared by both plugins: the CNI_* environment read,
 * stdin read whole (a failure is code 5), and the VERSION answer.
 */
import { type CniEnv, type Environment, readCniEnv } from "./env.js";
import { CniError } from "./errors.js";
import { CNI_ERROR_CODES } from "./protocol.js";
import { requestedVersion, versionReport } from "./versions.js";

export interface Invocation {
  env: CniEnv;
  stdin: string;
}

export function readInvocation(vars: Environment, readStdin: () => string): Invocation {
  const env = readCniEnv(vars);
  try {
    return { env, stdin: readStdin() };
  } catch (err) {
    throw new CniError(CNI_ERROR_CODES.IO_FAILURE, "error reading the network config from stdin", String(err));
  }
}

/** VERSION's stdout: the version the runtime asked about when we speak it, and all we speak. */
export const versionAnswer = (stdin: string): string => JSON.stringify(versionReport(requestedVersion(stdin))) + "\n";
