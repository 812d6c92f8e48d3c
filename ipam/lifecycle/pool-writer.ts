import type { Family } from "../address/ip.js";
import type { IPSet } from "../address/ipset.js";
import type { PoolRequest, PoolResponse } from "../allocation/requests.js";
import { IpamError, isIpamError } from "../errors.js";
import type { SpiderIPPool } from "../kinds/ippool.js";
import { ConflictError, type Allocator, type Cache, type Clock, type Log, type PoolStore } from "../ports.js";
import { retry, type RetryPolicy } from "../retry.js";
import { commitToPool } from "./pool-commit.js";

/**
 * The freshest copy of a pool: the allocator's where it keeps one (its last write, or its
 * cache's when newer: the informer may be behind the writer's own write), else the cache's.
 */
export function freshestPool(allocator: Pick<Allocator, "latest">, pools: Cache<SpiderIPPool>, name: string): SpiderIPPool | undefined {
  return allocator.latest?.(name) ?? pools.get(name);
}

export interface PoolWriterOptions {
  store: PoolStore;
  /** The informer's copy, possibly behind; a write that loses re-reads from the store. */
  cached: (name: string) => SpiderIPPool | undefined;
  /** SpiderReservedIP addresses of a family. */
  reserved: (family: Family) => IPSet;
  clock: Clock;
  coolDownMs: number;
  log: Log;
  /** A write lost its compare-and-swap and will be retried; `requests` is what it carried. */
  onConflict?: (pool: string, requests: readonly PoolRequest[]) => void;
  onWrite?: (pool: string, batch: number) => void;
  /** How lost compare-and-swaps are retried; CONFLICT_RETRY by default. */
  retry?: RetryPolicy;
  /**
   * Whether a failed write may be the fault of one of its requests (the apiserver refused
   * the object, e.g. too large), so the batch is split to find it. By default any failure but
   * a conflict; an adapter can say no for failures that would fail any write (unreachable).
   */
  mayBeRequestFault?: (err: unknown) => boolean;
  /** Why a pool may allocate nothing new right now (its record is being rebuilt), if so. */
  blocked?: (pool: SpiderIPPool) => string | undefined;
}

/** Replicas that collide retry soon and apart; 30 attempts ride out a burst of hundreds of admissions. */
export const CONFLICT_RETRY: RetryPolicy = { attempts: 30, baseMs: 10, maxMs: 200, jitter: true };

interface Waiting {
  request: PoolRequest;
  resolve: (r: PoolResponse) => void;
  reject: (e: unknown) => void;
}

const rv = (p: SpiderIPPool | undefined): number => Number(p?.metadata.resourceVersion ?? -1);

/**
 * Group commit per pool: requests for one pool that arrive while a write to it is in
 * flight wait and go together in the next write, so N concurrent admissions cost about
 * one compare-and-swap per round trip instead of N. A write that loses the race (another
 * replica wrote first) re-reads the pool and applies the whole batch again after a
 * jittered backoff; nobody's result is final until its write has succeeded.
 */
export class PoolWriter implements Allocator {
  private readonly queues = new Map<string, Waiting[]>();
  private readonly running = new Set<string>();
  /** What this writer last wrote per pool: fresher than the informer right after a write. */
  private readonly written = new Map<string, SpiderIPPool>();

  constructor(private readonly o: PoolWriterOptions) {}

  submit(pool: string, request: PoolRequest): Promise<PoolResponse> {
    return new Promise((resolve, reject) => {
      const q = this.queues.get(pool) ?? [];
      q.push({ request, resolve, reject });
      this.queues.set(pool, q);
      if (!this.running.has(pool)) void this.drain(pool);
    });
  }

  observe(pool: SpiderIPPool): void {
    const name = pool.metadata.name ?? "";
    if (rv(pool) > rv(this.written.get(name))) this.written.set(name, pool);
  }

  latest(name: string): SpiderIPPool | undefined {
    return this.freshest(name);
  }

  private freshest(name: string): SpiderIPPool | undefined {
    const a = this.o.cached(name);
    const b = this.written.get(name);
    return rv(b) > rv(a) ? b : a;
  }

  private apply(pool: SpiderIPPool, requests: readonly PoolRequest[]): ReturnType<typeof commitToPool> {
    return commitToPool(pool, requests, { reserved: this.o.reserved, now: this.o.clock.now(), coolDownMs: this.o.coolDownMs, ...(this.o.blocked ? { blocked: this.o.blocked } : {}) });
  }

  private async drain(pool: string): Promise<void> {
    this.running.add(pool);
    try {
      for (;;) {
        const batch = this.queues.get(pool) ?? [];
        if (batch.length === 0) break;
        this.queues.set(pool, []);
        await this.commitIsolating(pool, batch);
      }
    } finally {
      this.running.delete(pool);
    }
  }

  /**
   * Commits a batch; when its write fails in a way one request may have caused, the halves
   * are committed apart (and so on down), so only the request at fault is refused and its
   * neighbours are served: at most about 2·log2(n) extra writes per bad request.
   */
  private async commitIsolating(pool: string, batch: readonly Waiting[]): Promise<void> {
    try {
      const results = await this.commit(pool, batch.map((w) => w.request));
      batch.forEach((w, i) => w.resolve(results[i] as PoolResponse));
    } catch (err) {
      const split = batch.length > 1 && !(err instanceof ConflictError) && !isIpamError(err, "POOL_NOT_FOUND") && (this.o.mayBeRequestFault?.(err) ?? true);
      if (!split) {
        for (const w of batch) w.reject(err);
        return;
      }
      this.o.log.debug({ pool, batch: batch.length, err }, "pool write failed; writing the batch's halves apart to find the request at fault");
      const half = Math.ceil(batch.length / 2);
      await this.commitIsolating(pool, batch.slice(0, half));
      await this.commitIsolating(pool, batch.slice(half));
    }
  }

  private async commit(name: string, requests: PoolRequest[]): Promise<PoolResponse[]> {
    const { clock, store } = this.o;
    let pool = this.freshest(name);
    let live = false;
    return retry(
      async (attempt) => {
        if (attempt > 1 || !pool) {
          pool = await store.get(name);
          live = true;
        }
        if (!pool) throw new IpamError("POOL_NOT_FOUND", `pool ${name} does not exist`, { pool: name });
        let { answers, next } = this.apply(pool, requests);
        if (!next && !live) {
          // "Nothing to change" judged on a copy another replica may have written past (a
          // release of an address it allocated, a repeat of a reservation since released)
          // is only an answer once the pool itself says so: read it and apply again.
          const fresh = await store.get(name);
          live = true;
          if (!fresh) throw new IpamError("POOL_NOT_FOUND", `pool ${name} does not exist`, { pool: name });
          if (fresh.metadata.resourceVersion !== pool.metadata.resourceVersion) ({ answers, next } = this.apply((pool = fresh), requests));
        }
        if (!next) return answers;
        const written = await store.replaceStatus(next);
        this.written.set(name, written);
        this.o.onWrite?.(name, requests.length);
        return answers;
      },
      {
        policy: this.o.retry ?? CONFLICT_RETRY,
        clock,
        retryable: (err) => err instanceof ConflictError,
        // A lost compare-and-swap is the protocol working, not a fault.
        onRetry: (_err, attempt, delayMs) => {
          this.o.onConflict?.(name, requests);
          this.o.log.debug({ pool: name, attempt, delayMs, batch: requests.length }, "pool write lost a compare-and-swap; re-reading");
        },
      },
    );
  }
}
