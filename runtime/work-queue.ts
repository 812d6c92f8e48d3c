import { ConflictError, type Log } from "../ipam/ports.js";
import { backoffDelay, type Backoff } from "../ipam/retry.js";

/**
 * A keyed, de-duplicating work queue: a key added while queued is queued once; a key added
 * while being processed is processed again afterwards (never twice at once). A failed key is
 * retried with capped exponential backoff. This is the controller-runtime pattern that makes
 * reconcilers level-triggered: the handler reads the current state for the key, not the event.
 */
export class WorkQueue {
  private readonly queued = new Set<string>();
  private readonly order: string[] = [];
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private running = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly name: string,
    private readonly handle: (key: string) => Promise<void>,
    private readonly log: Log,
    private readonly concurrency = 1,
    private readonly backoff: Backoff = { baseMs: 200, maxMs: 30_000, jitter: false },
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.order.push(key);
    this.pump();
  }

  addAfter(key: string, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.add(key);
    }, ms);
    this.timers.add(t);
  }

  /** Resolves when nothing is queued or running (for tests and shutdown). */
  idle(): Promise<void> {
    if (this.running === 0 && this.order.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.order.length = 0;
    this.queued.clear();
  }

  private pump(): void {
    while (!this.stopped && this.running < this.concurrency && this.order.length > 0) {
      const key = this.order.shift() as string;
      this.queued.delete(key);
      this.active.add(key);
      this.running++;
      void this.work(key);
    }
    if (this.running === 0 && this.order.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async work(key: string): Promise<void> {
    try {
      await this.handle(key);
      this.failures.delete(key);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const delay = backoffDelay(n, this.backoff);
      // A lost compare-and-swap means another writer was first: the next round reads its result.
      if (err instanceof ConflictError) this.log.debug({ queue: this.name, key, attempt: n, retryInMs: delay }, "reconcile lost a compare-and-swap; retrying");
      else this.log.warn({ err, queue: this.name, key, attempt: n, retryInMs: delay }, "reconcile failed; retrying");
      this.addAfter(key, delay);
    } finally {
      this.active.delete(key);
      this.running--;
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
    }
  }
}
