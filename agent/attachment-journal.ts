import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Log } from "../ipam/ports.js";
import type { AttachmentJournal, AttachmentOp } from "./attachments.js";

/**
 * The attachment journal as a file of JSON lines beside the agent's socket (a tmpfs on
 * most nodes: it survives the agent, not a reboot, and a reboot takes the sandboxes with
 * it). An append is a write to the page cache, microseconds, so it may sit on the ADD's
 * reply path; no fsync, for the same reason.
 */
export function fileJournal(path: string, log: Log): AttachmentJournal {
  mkdirSync(dirname(path), { recursive: true });
  let size = 0;
  return {
    get size() {
      return size;
    },
    append(op) {
      appendFileSync(path, JSON.stringify(op) + "\n", { mode: 0o600 });
      size++;
    },
    read() {
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (err) {
        if ((err as { code?: string }).code === "ENOENT") return [];
        throw err;
      }
      const ops: AttachmentOp[] = [];
      for (const line of text.split("\n")) {
        if (line === "") continue;
        const op = parseOp(line);
        // A crash in the middle of an append leaves a torn last line: that op was never answered.
        if (op) ops.push(op);
        else log.warn({ journal: path, line: line.slice(0, 200) }, "skipping an unreadable attachment journal line");
      }
      size = ops.length;
      return ops;
    },
    rewrite(ops) {
      const tmp = `${path}.tmp`;
      writeFileSync(tmp, ops.map((op) => JSON.stringify(op) + "\n").join(""), { mode: 0o600 });
      renameSync(tmp, path);
      size = ops.length;
    },
  };
}

const isText = (v: unknown): v is string => typeof v === "string";

/** One op as JSON (a journal line, a spool note); undefined when it is not one. */
export function parseOp(line: string): AttachmentOp | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  const o = raw as Partial<AttachmentOp> | null;
  const att = o?.attachment;
  if (!o || (o.op !== "add" && o.op !== "del") || !isText(o.namespace) || !isText(o.name) || (o.uid !== undefined && !isText(o.uid))) return undefined;
  if (!att || !isText(att.containerID) || !isText(att.interface) || !isText(att.network)) return undefined;
  return { op: o.op, namespace: o.namespace, name: o.name, ...(o.uid !== undefined ? { uid: o.uid } : {}), attachment: { containerID: att.containerID, interface: att.interface, network: att.network } };
}
