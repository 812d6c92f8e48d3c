/**
 * ADD without a round trip (docs/cni.md): the agent keeps a proven answer per Pod in a file
 * beside its socket; the plugin reads it and leaves a note of the attachment in the agent's
 * spool. A plain file read and a file write, where the socket costs the plugin the loading
 * of node:net, a connection and the agent's turn: about as much again as its whole start-up.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { ANSWERS_DIR_SUFFIX, SPOOL_DIR_SUFFIX } from "./protocol.js";

export interface FastPath {
  /** The answer file of the Pod with this uid, as text; undefined when there is none. */
  read(uid: string): string | undefined;
  /** Leaves a note in the agent's spool; throws when it cannot (the caller then asks the socket). */
  spool(name: string, text: string): void;
}

/** A Kubernetes uid (a UUID): anything else never names a file here. */
export const UID_SYNTAX = /^[A-Za-z0-9-]{1,64}$/;

export function fileFastPath(socketPath: string): FastPath {
  const answers = `${socketPath}${ANSWERS_DIR_SUFFIX}`;
  const spool = `${socketPath}${SPOOL_DIR_SUFFIX}`;
  return {
    read(uid) {
      if (!UID_SYNTAX.test(uid)) return undefined;
      try {
        return readFileSync(`${answers}/${uid}.json`, "utf8");
      } catch {
        return undefined; // no file (not proven yet, an older agent): the socket answers
      }
    },
    spool(name, text) {
      // Renamed into place: the agent drains only whole notes (*.json).
      const tmp = `${spool}/${name}.tmp`;
      writeFileSync(tmp, text, { flag: "wx", mode: 0o600 });
      renameSync(tmp, `${spool}/${name}.json`);
    },
  };
}
