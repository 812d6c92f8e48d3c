import { isDeepStrictEqual } from "node:util";
import type { EndpointAttachment, EndpointCurrent, SpiderEndpoint } from "../ipam/kinds/endpoint.js";
import { ConflictError, type Clock, type EndpointStore, type Log } from "../ipam/ports.js";
import { KeyedLanes } from "../ipam/lanes.js";
import { retry, type RetryPolicy } from "../ipam/retry.js";

/** One change to the attachments an endpoint records: ADD remembers one, DEL forgets it. */
export interface AttachmentOp {
  op: "add" | "del";
  namespace: string;
  name: string;
  /** For "add": the Pod the attachment was answered for; a later Pod of the same name does not get it. */
  uid?: string;
  attachment: EndpointAttachment;
}

/**
 * Where ops are written before the ADD is answered, so that a crash between the answer and
 * the endpoint write loses nothing: the next agent replays them. Append-only, in order.
 */
export interface AttachmentJournal {
  append(op: AttachmentOp): void;
  /** Every op appended since the last rewrite, in order (a torn last line is dropped). */
  read(): AttachmentOp[];
  /** Replaces the whole journal by these ops (the ones still pending), atomically. */
  rewrite(ops: readonly AttachmentOp[]): void;
  /** Ops in the journal now. */
  readonly size: number;
}

export interface AttachmentRecorderDeps {
  endpoints: Pick<EndpointStore, "get" | "replace">;
  journal: AttachmentJournal;
  clock: Clock;
  log: Log;
  /** Runs a write once the reply that scheduled it is on its way (setImmediate in the agent). */
  defer: (fn: () => void) => void;
  /** Pending writes, for the agent's gauge. */
  onPending?: (count: number) => void;
}

/** A lost compare-and-swap is retried at once; an unreachable apiserver for up to 10 minutes. */
const WRITE_RETRY: RetryPolicy = { attempts: Number.MAX_SAFE_INTEGER, baseMs: 10, maxMs: 10_000, jitter: true, deadlineMs: 10 * 60_000 };
/** Past this many ops the journal is rewritten with the pending ones only. */
const JOURNAL_COMPACT_AT = 1024;

const sameAttachment = (a: EndpointAttachment, b: EndpointAttachment): boolean =>
  a.containerID === b.containerID && a.interface === b.interface && a.network === b.network;

/** The endpoint's record with one op applied (the same object when the op changes nothing). */
export function applyAttachmentOp(cur: EndpointCurrent, op: AttachmentOp): EndpointCurrent {
  const list = cur.attachments ?? [];
  if (op.op === "del") {
    const left = list.filter((a) => !sameAttachment(a, op.attachment));
    return left.length === list.length ? cur : { ...cur, attachments: left };
  }
  if (op.uid !== undefined && cur.uid !== op.uid) return cur; // the endpoint now records another Pod
  const att = op.attachment;
  const next = { ...cur, attachments: [...list.filter((a) => a.interface !== att.interface || a.network !== att.network), att], containerID: att.containerID };
  return isDeepStrictEqual(next, cur) ? cur : next;
}

/**
 * Writes attachments to SpiderEndpoints off the ADD's reply path. Each op is journaled
 * (a local append), then written after the reply, one endpoint at a time in the order the
 * ops came: a DEL that races a late ADD write lands after it, so the attachment it forgets
 * stays forgotten. Reads of "what is attached" (CHECK) see the recorded list with the
 * pending ops applied.
 */
export class AttachmentRecorder {
  /** One lane per endpoint: a write waits for the one scheduled before it. */
  private readonly lanes = new KeyedLanes();
  /** Ops not yet written, in the order they came (a Set keeps insertion order). */
  private readonly pending = new Set<AttachmentOp>();

  constructor(private readonly d: AttachmentRecorderDeps) {}

  /**
   * Journals the op and schedules its write; `base` is the endpoint as the caller read it
   * (saves a read when it is still current). The promise settles once the write landed, was
   * not needed, or was given up (logged); it never rejects.
   */
  record(op: AttachmentOp, base?: SpiderEndpoint): Promise<void> {
    try {
      this.d.journal.append(op);
    } catch (err) {
      // The write still happens; only a crash before it would now lose it.
      this.d.log.error({ err, endpoint: `${op.namespace}/${op.name}` }, "cannot journal an attachment; writing it without a journal");
    }
    return this.schedule(op, base);
  }

  /** Schedules the journal's ops (a previous agent's, not all written): call once at start. */
  replay(): number {
    const ops = this.d.journal.read();
    for (const op of ops) void this.schedule(op);
    if (ops.length > 0) this.d.log.info({ ops: ops.length }, "replaying attachment writes journaled before a restart");
    return ops.length;
  }

  /** The attachments `ep` will record once the writes pending for it land. */
  projected(ep: SpiderEndpoint): EndpointAttachment[] {
    let cur = ep.status?.current;
    if (!cur) return [];
    for (const op of this.pending) {
      if (op.namespace === ep.metadata.namespace && op.name === ep.metadata.name) cur = applyAttachmentOp(cur, op);
    }
    return cur.attachments ?? [];
  }

  /** Resolves when every write scheduled so far has settled (tests, shutdown). */
  async idle(): Promise<void> {
    await this.lanes.idle();
  }

  private schedule(op: AttachmentOp, base?: SpiderEndpoint): Promise<void> {
    const key = `${op.namespace}/${op.name}`;
    this.pending.add(op);
    this.d.onPending?.(this.pending.size);
    return this.lanes.run(key, () =>
      new Promise<void>((resolve) => this.d.defer(resolve))
        .then(() => this.write(op, base))
        .catch((err: unknown) => this.d.log.error({ err, endpoint: key, op: op.op, attachment: op.attachment }, "attachment write given up"))
        .finally(() => this.settled(op)),
    );
  }

  private settled(op: AttachmentOp): void {
    this.pending.delete(op);
    this.d.onPending?.(this.pending.size);
    try {
      if (this.pending.size === 0 ? this.d.journal.size > 0 : this.d.journal.size > JOURNAL_COMPACT_AT) this.d.journal.rewrite([...this.pending]);
    } catch (err) {
      this.d.log.warn({ err }, "cannot compact the attachment journal");
    }
  }

  private async write(op: AttachmentOp, base?: SpiderEndpoint): Promise<void> {
    await retry(
      async (attempt) => {
        const ep = attempt === 1 && base ? base : await this.d.endpoints.get(op.name, op.namespace);
        const cur = ep?.status?.current;
        if (!ep || !cur) return; // no endpoint: nothing to remember, nothing to forget
        const next = applyAttachmentOp(cur, op);
        if (next === cur) return;
        await this.d.endpoints.replace({ ...ep, status: { ...ep.status, current: next } });
      },
      {
        policy: WRITE_RETRY,
        clock: this.d.clock,
        retryable: () => true,
        onRetry: (err, attempt, delayMs) => {
          const fields = { endpoint: `${op.namespace}/${op.name}`, op: op.op, attempt, retryInMs: delayMs };
          // A lost compare-and-swap is the protocol working; anything else is worth a look.
          if (err instanceof ConflictError) this.d.log.debug(fields, "attachment write lost a compare-and-swap; retrying");
          else this.d.log.warn({ ...fields, err }, "attachment write failed; retrying");
        },
      },
    );
  }
}
