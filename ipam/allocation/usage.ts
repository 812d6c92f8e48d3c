import { IPSet } from "../address/ipset.js";
import { type PoolView, saturatingCount } from "./pool-view.js";
import type { PoolAllocations } from "./state.js";

export interface PoolUsage {
  /** status.totalIPCount: |ips − excludeIPs|. */
  readonly total: number;
  /** status.allocatedIPCount: every held address, pending or bound. */
  readonly allocated: number;
  /** What a new Pod could still get (cooling-down addresses included): allocatable − held. */
  readonly available: number;
}

/** The counters for status, printer columns and the per-pool gauges. Counts saturate (see PoolView). */
export function poolUsage(view: PoolView, state: PoolAllocations): PoolUsage {
  const held = IPSet.of(
    view.family,
    state.runs.map((r) => ({ start: r.start, end: r.start + BigInt(r.count) - 1n })),
  );
  return {
    total: view.totalIPCount,
    allocated: saturatingCount(held.size()),
    available: saturatingCount(view.allocatable.difference(held).size()),
  };
}
