import type { Logger } from "pino";
import type { Family } from "../ipam/address/ip.js";
import { IPSet } from "../ipam/address/ipset.js";
import { applyPoolRequests } from "../ipam/allocation/batch.js";
import { decodeAllocations, encodeAllocations } from "../ipam/allocation/codec.js";
import { buildPoolView, reservedAddresses, specFamily } from "../ipam/allocation/pool-view.js";
import type { PoolRequest, PoolResponse } from "../ipam/allocation/requests.js";
import { poolUsage } from "../ipam/allocation/usage.js";
import { IpamError } from "../ipam/errors.js";
import type { SpiderIPPool } from "../ipam/kinds/ippool.js";
import type { SpiderReservedIP } from "../ipam/kinds/reservedip.js";
import { ConflictError } from "./resources.js";

/**
 * The SpiderReservedIP addresses of a family, from a cache. An object that cannot be read
 * (the validating webhook should have refused it) is logged, and until it is fixed no
 * reserved address of that family is known.
 */
export function reservedFrom(list: () => readonly SpiderReservedIP[], log: Logger): (family: Family) => IPSet {
  return (family) => {
    try {
      return reservedAddresses(family, list());
    } catch (err) {
      log.error({ err }, "a SpiderReservedIP cannot be read; treating its addresses as unknown");
      return IPSet.empty(family);
    }
  };
}

/** Where pools are read from and written to (the apiserver, through the status subresource). */
export interface PoolStore {
  get(name: string): Promise<SpiderIPPool | undefined>;
  /** Compare-and-swap on metadata.resourceVersion; throws ConflictError when it lost. */
  replaceStatus(pool: SpiderIPPool): Promise<SpiderIPPool>;
}

/** Applies requests to pools: the one way allocation state changes. */
export interface Allocator {
  submit(pool: string, request: PoolRequest): Promise<PoolResponse>;
  /** Tells the allocator about a pool read or written elsewhere (fresher than its cache, maybe). */
  observe?(pool: SpiderIPPool): void;
}

export interface PoolWriterOptions {
  store: PoolStore;
  /** The informer's copy, possibly behind; a write that loses re-reads from the store. */
  cached: (name: string) => SpiderIPPool | undefined;
  /** SpiderReservedIP addresses of a family. */
  reserved: (family: Family) => IPSet;
  now: () => number;
  coolDownMs: number;
  log: Logger;
  onConflict?: (pool: string) => void;
  onWrite?: (pool: string, batch: number) => void;
  maxAttempts?: number;
}

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

  private freshest(name: string): SpiderIPPool | undefined {
    const a = this.o.cached(name);
    const b = this.written.get(name);
    return rv(b) > rv(a) ? b : a;
  }

  private async drain(pool: string): Promise<void> {
    this.running.add(pool);
    try {
      for (;;) {
        const batch = this.queues.get(pool) ?? [];
        if (batch.length === 0) break;
        this.queues.set(pool, []);
        try {
          const results = await this.commit(pool, batch.map((w) => w.request));
          batch.forEach((w, i) => w.resolve(results[i] as PoolResponse));
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.running.delete(pool);
    }
  }

  private async commit(name: string, requests: PoolRequest[]): Promise<PoolResponse[]> {
    const maxAttempts = this.o.maxAttempts ?? 30;
    let pool = this.freshest(name) ?? (await this.o.store.get(name));
    for (let attempt = 1; ; attempt++) {
      if (!pool) throw new IpamError("POOL_NOT_FOUND", `pool ${name} does not exist`, { pool: name });
      const view = buildPoolView(pool, this.o.reserved(specFamily(name, pool.spec)));
      const refuse = pool.metadata.deletionTimestamp ? "is being deleted" : pool.spec.disable ? "is disabled" : undefined;
      const now = this.o.now();
      const state = decodeAllocations(pool.status?.allocations, view.subnet);
      // A pool that may not allocate still releases and binds.
      const runnable = requests.map((r) => (refuse && r.kind === "allocate" ? undefined : r));
      const { state: next, results } = applyPoolRequests(view, state, runnable.filter((r): r is PoolRequest => r !== undefined), { now, coolDownMs: this.o.coolDownMs });
      let k = 0;
      const answers: PoolResponse[] = runnable.map((r) =>
        r === undefined
          ? { ok: false, kind: "allocate", error: new IpamError("POOL_NOT_ALLOWED", `pool ${name} ${refuse ?? ""}; it allocates nothing new`, { pool: name }) }
          : (results[k++] as PoolResponse),
      );
      const text = encodeAllocations(next, view.subnet);
      if (text === (pool.status?.allocations ?? encodeAllocations(state, view.subnet))) return answers;
      const usage = poolUsage(view, next);
      try {
        const written = await this.o.store.replaceStatus({
          ...pool,
          status: { ...pool.status, allocations: text, allocatedIPCount: usage.allocated, totalIPCount: usage.total },
        });
        this.written.set(name, written);
        this.o.onWrite?.(name, requests.length);
        return answers;
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= maxAttempts) throw err;
        this.o.onConflict?.(name);
        // Jittered backoff: replicas that collided should not collide again in lockstep.
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** attempt)));
        pool = await this.o.store.get(name);
      }
    }
  }
}

/**
 * The same answers without writing: for dryRun admissions. Requests of one admission see
 * each other's effect (a second NIC does not get the first NIC's address).
 */
export class DryRunAllocator implements Allocator {
  private readonly local = new Map<string, SpiderIPPool>();
  constructor(private readonly o: Pick<PoolWriterOptions, "cached" | "reserved" | "now" | "coolDownMs">) {}

  observe(pool: SpiderIPPool): void {
    if (!this.local.has(pool.metadata.name ?? "")) this.local.set(pool.metadata.name ?? "", pool);
  }

  submit(name: string, request: PoolRequest): Promise<PoolResponse> {
    const pool = this.local.get(name) ?? this.o.cached(name);
    if (!pool) return Promise.reject(new IpamError("POOL_NOT_FOUND", `pool ${name} does not exist`, { pool: name }));
    const view = buildPoolView(pool, this.o.reserved(specFamily(name, pool.spec)));
    const state = decodeAllocations(pool.status?.allocations, view.subnet);
    const { state: next, results } = applyPoolRequests(view, state, [request], { now: this.o.now(), coolDownMs: this.o.coolDownMs });
    this.local.set(name, { ...pool, status: { ...pool.status, allocations: encodeAllocations(next, view.subnet) } });
    return Promise.resolve(results[0] as PoolResponse);
  }
}
