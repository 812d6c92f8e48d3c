import type { PoolRequest, PoolResponse } from "../allocation/requests.js";
import { IpamError } from "../errors.js";
import type { SpiderIPPool } from "../kinds/ippool.js";
import type { Allocator } from "../ports.js";
import { commitToPool } from "./pool-commit.js";
import type { PoolWriterOptions } from "./pool-writer.js";

/**
 * The same answers as the pool writer, without writing: for dryRun admissions. Requests of
 * one admission see each other's effect (a second NIC does not get the first NIC's
 * address); nothing outlives the admission.
 */
export class DryRunAllocator implements Allocator {
  private readonly local = new Map<string, SpiderIPPool>();
  constructor(private readonly o: Pick<PoolWriterOptions, "cached" | "reserved" | "clock" | "coolDownMs">) {}

  observe(pool: SpiderIPPool): void {
    if (!this.local.has(pool.metadata.name ?? "")) this.local.set(pool.metadata.name ?? "", pool);
  }

  submit(name: string, request: PoolRequest): Promise<PoolResponse> {
    const pool = this.local.get(name) ?? this.o.cached(name);
    if (!pool) return Promise.reject(new IpamError("POOL_NOT_FOUND", `pool ${name} does not exist`, { pool: name }));
    const { answers, next } = commitToPool(pool, [request], { reserved: this.o.reserved, now: this.o.clock.now(), coolDownMs: this.o.coolDownMs });
    if (next) this.local.set(name, next);
    return Promise.resolve(answers[0] as PoolResponse);
  }
}
