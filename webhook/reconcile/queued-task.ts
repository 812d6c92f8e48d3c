import type { Log } from "../../ipam/ports.js";
import { WorkQueue } from "../../runtime/work-queue.js";
import type { LeaderTask } from "./leader-task.js";

/**
 * A leader task fed by one keyed work queue: events add keys while this replica leads; the
 * queue's handler does the work. Subclasses decide which events add which keys, and what a
 * new leader catches up on.
 */
export abstract class QueuedLeaderTask implements LeaderTask {
  protected readonly queue: WorkQueue;
  protected leading = false;

  constructor(name: string, handle: (key: string) => Promise<void>, log: Log) {
    this.queue = new WorkQueue(name, handle, log);
  }

  /** Adds `key` if this replica leads (events before leadership are caught up on at its start). */
  protected follow(key: string): void {
    if (this.leading) this.queue.add(key);
  }

  abstract startLeading(): void;

  stopLeading(): void {
    this.leading = false;
  }

  settled(): Promise<void> {
    return this.queue.idle();
  }

  stop(): void {
    this.stopLeading();
    this.queue.stop();
  }
}
