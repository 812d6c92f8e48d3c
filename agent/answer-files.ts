import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAssignedIPs, sameNics, type AssignedIPs } from "../ipam/annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../ipam/annotations/keys.js";
import type { EndpointCurrent, SpiderEndpoint } from "../ipam/kinds/endpoint.js";
import { isFinished, type PodLike } from "../ipam/kinds/pod.js";
import type { Cache, Log } from "../ipam/ports.js";
import type { AddAnswer, AnswerFile } from "../cni/protocol.js";
import { answer } from "./cni-service.js";

/**
 * The answers ADD would give for a Pod, once its endpoint proves them: the Pod runs on this
 * node, is not finished or terminating, and its endpoint records this very Pod (uid), this
 * reservation and, per NIC, exactly the annotation's addresses. The same checks as the
 * socket's ADD; a NIC that fails them is left out (the plugin then asks over the socket).
 */
export function provenAnswers(pod: PodLike | undefined, ep: SpiderEndpoint | undefined, nodeName: string): AnswerFile | undefined {
  const live = pod && liveHere(pod, nodeName) ? pod : undefined;
  const assigned = live ? readAssigned(live) : undefined;
  const cur = ep?.status?.current;
  if (!live || !assigned || !cur || !recordsThis(cur, live, assigned)) return undefined;
  const nics = provenNics(cur, assigned);
  const { namespace = "", name = "", uid = "" } = live.metadata;
  return Object.keys(nics).length > 0 ? { namespace, name, uid, nics } : undefined;
}

/** Each NIC whose recorded addresses are exactly the annotation's, with its answer. */
function provenNics(cur: EndpointCurrent, assigned: AssignedIPs): Record<string, AddAnswer> {
  const nics: Record<string, AddAnswer> = {};
  for (const nic of assigned.ips) {
    const recorded = cur.ips.find((x) => x.interface === nic.interface);
    if (recorded && sameNics([recorded], [nic])) nics[nic.interface] = answer(nic, false);
  }
  return nics;
}

/** The endpoint records this very Pod and reservation. */
function recordsThis(cur: EndpointCurrent, pod: PodLike, assigned: AssignedIPs): boolean {
  return cur.uid === pod.metadata.uid && cur.reservation === assigned.reservation;
}

/** A named Pod with a uid, on this node, neither finished nor terminating. */
function liveHere(pod: PodLike, nodeName: string): boolean {
  const { name, namespace, uid, deletionTimestamp } = pod.metadata;
  return Boolean(name && namespace && uid && !deletionTimestamp) && pod.spec?.nodeName === nodeName && !isFinished(pod);
}

function readAssigned(pod: PodLike): AssignedIPs | undefined {
  const text = pod.metadata.annotations?.[ANNO_ASSIGNED_IPS];
  try {
    return text ? parseAssignedIPs(text) : undefined;
  } catch {
    return undefined; // the socket's ADD reports it, with the reason
  }
}

export interface AnswerFilesDeps {
  /** `<socket>.answers`: root only, like the socket. */
  dir: string;
  nodeName: string;
  pods: Cache<PodLike>;
  endpoints: Cache<SpiderEndpoint>;
  log: Log;
}

/**
 * Keeps one answer file per proven Pod of this node in `dir`, named after the Pod's uid, in
 * step with the informers: the plugin reads it instead of asking over the socket. Written
 * to a temp file and renamed, so a reader sees a whole file or none; removed when the Pod
 * or its proof goes. Emptied at start: a previous agent's files may be stale.
 */
export class AnswerFiles {
  /** Pod key → the uid and text of its file. */
  private readonly written = new Map<string, { uid: string; text: string }>();
  private cleared = false;

  constructor(private readonly d: AnswerFilesDeps) {
    rmSync(d.dir, { recursive: true, force: true });
    mkdirSync(d.dir, { recursive: true, mode: 0o700 });
  }

  /** Re-derives the file of Pod `namespace/name` from the caches (call on any event about it). */
  refresh(namespace: string, name: string): void {
    if (this.cleared) return;
    const key = `${namespace}/${name}`;
    const file = provenAnswers(this.d.pods.get(name, namespace), this.d.endpoints.get(name, namespace), this.d.nodeName);
    const text = file ? JSON.stringify(file) : undefined;
    const previous = this.written.get(key);
    if (previous && previous.uid === file?.uid && previous.text === text) return;
    try {
      if (previous) rmSync(this.path(previous.uid), { force: true });
      this.written.delete(key);
      if (!file || !text) return;
      const tmp = `${this.path(file.uid)}.tmp`;
      writeFileSync(tmp, text, { mode: 0o600 });
      renameSync(tmp, this.path(file.uid));
      this.written.set(key, { uid: file.uid, text });
    } catch (err) {
      // Without its file the Pod's ADD takes the socket: slower, not wrong.
      this.d.log.warn({ err, pod: key }, "cannot write the ADD answer file");
    }
  }

  /** Every Pod the caches know, and every file written for one they no longer know. */
  refreshAll(): void {
    const keys = new Set(this.written.keys());
    for (const pod of this.d.pods.list()) keys.add(`${pod.metadata.namespace ?? ""}/${pod.metadata.name ?? ""}`);
    for (const key of keys) {
      const [namespace = "", name = ""] = key.split("/", 2);
      this.refresh(namespace, name);
    }
  }

  /** Removes every file (a stopping agent: the plugin then asks the socket, which says so). */
  clear(): void {
    this.cleared = true;
    rmSync(this.d.dir, { recursive: true, force: true });
    this.written.clear();
  }

  private path(uid: string): string {
    return join(this.d.dir, `${uid}.json`);
  }
}
