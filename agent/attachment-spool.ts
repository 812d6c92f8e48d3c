import { type FSWatcher, mkdirSync, readFileSync, readdirSync, rmSync, statSync, watch } from "node:fs";
import { join } from "node:path";
import type { Log } from "../ipam/ports.js";
import { parseOp } from "./attachment-journal.js";
import type { AttachmentRecorder } from "./attachments.js";

/**
 * The spool where the plugin leaves a note of each ADD it answered from an answer file
 * (cni/answer-file.ts), one file per ADD, named so that names sort in the order they came.
 * Draining hands each note to the recorder (which journals it) and only then removes it,
 * so a crash at any point loses nothing; a note seen twice is harmless (ops are idempotent).
 */
export class AttachmentSpool {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dir: string,
    private readonly recorder: Pick<AttachmentRecorder, "record">,
    private readonly log: Log,
    /** A note larger than this is dropped unread (notes are a few hundred bytes). */
    private readonly maxNoteBytes = 64 * 1024,
    /** Each note of an ADD read: one the plugin answered from an answer file (a metric). */
    private readonly onAnswered?: () => void,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Records every note in the spool now, oldest first; returns how many. Synchronous up to the recording. */
  drain(): number {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith(".json")).sort();
    } catch (err) {
      this.log.warn({ err, spool: this.dir }, "cannot read the attachment spool");
      return 0;
    }
    for (const name of names) {
      const path = join(this.dir, name);
      let text: string;
      try {
        if (statSync(path).size > this.maxNoteBytes) {
          this.log.warn({ spool: path, limit: this.maxNoteBytes }, "dropping an attachment note larger than the limit, unread");
          rmSync(path, { force: true });
          continue;
        }
        text = readFileSync(path, "utf8");
      } catch {
        continue; // drained by an overlapping call
      }
      const op = parseOp(text.trim());
      if (op?.op === "add") {
        void this.recorder.record(op);
        this.onAnswered?.();
      } else this.log.warn({ spool: path, text: text.slice(0, 200) }, "dropping an unreadable attachment note");
      rmSync(path, { force: true });
    }
    return names.length;
  }

  /** Drains on every change of the folder, and every `everyMs` in case a change went unseen. */
  start(everyMs = 1_000): void {
    this.drain();
    try {
      this.watcher = watch(this.dir, () => this.drain());
    } catch (err) {
      this.log.warn({ err, spool: this.dir }, "cannot watch the attachment spool; draining on a timer only");
    }
    this.timer = setInterval(() => this.drain(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    this.drain();
  }
}
