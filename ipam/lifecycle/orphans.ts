import { decodeAllocations } from "../allocation/codec.js";
import { buildPoolView } from "../allocation/pool-view.js";
import { holders } from "../allocation/state.js";
import type { SpiderEndpoint } from "../kinds/endpoint.js";
import type { SpiderIPPool } from "../kinds/ippool.js";
import type { Allocator, Log } from "../ports.js";
import { recordedAddresses } from "./endpoints.js";

export interface OrphanDeps {
  /** Every pool, read first. */
  pools: () => Promise<readonly SpiderIPPool[]>;
  /** Every endpoint, read after the pools. */
  endpoints: () => Promise<readonly SpiderEndpoint[]>;
  allocator: Allocator;
  log: Log;
}

/**
 * Releases addresses a pool holds bound (not pending) that no SpiderEndpoint records under
 * their token: a release lost between a pool write and an endpoint delete, an address bound
 * by a late allocation that never reached the Pod. Only those already found orphaned by the
 * previous pass (`previously`, keys of orphanKey) are released: an address has to stay
 * without a record for a whole scan interval first. Safe against every writer because the
 * pools are read before the endpoints (an address is bound only after its endpoint is
 * written, and an endpoint goes only after its addresses are released) and because each
 * release names the token it judged: one handed out again since is a no-op. Returns what
 * was released and every orphan seen now (the next pass's `previously`).
 */
export async function releaseOrphans(d: OrphanDeps, previously: ReadonlySet<string>): Promise<{ released: Orphan[]; seen: Set<string> }> {
  const pools = await d.pools();
  const endpoints = await d.endpoints();
  const released: Orphan[] = [];
  const seen = new Set<string>();
  for (const o of orphanedHoldings(pools, endpoints)) {
    seen.add(orphanKey(o));
    if (!previously.has(orphanKey(o))) continue;
    const answer = await d.allocator.submit(o.pool, { kind: "release", address: o.address, token: o.token });
    if (answer.ok && answer.kind === "release" && answer.outcome === "released") released.push(o);
  }
  if (released.length > 0) d.log.info({ released: released.map((o) => `${o.pool}/${o.address}`) }, "released addresses no SpiderEndpoint records");
  return { released, seen };
}

/** The identity of an orphaned holding across passes: the same address under the same token. */
export const orphanKey = (o: Orphan): string => `${o.pool}/${o.address}/${o.token}`;

export interface Orphan {
  pool: string;
  address: bigint;
  token: number;
}

/** The bound holdings of `pools` that none of `endpoints` records under their token (unreadable pools are skipped: the rebuild's business). */
export function orphanedHoldings(pools: readonly SpiderIPPool[], endpoints: readonly SpiderEndpoint[]): Orphan[] {
  const recorded = new Set<string>();
  for (const ep of endpoints) for (const a of recordedAddresses(ep.status?.current?.ips ?? [])) recorded.add(`${a.pool}/${a.address}/${a.token}`);
  const out: Orphan[] = [];
  for (const pool of pools) {
    const name = pool.metadata.name ?? "";
    let state;
    try {
      state = decodeAllocations(pool.status?.allocations, buildPoolView(pool).subnet);
    } catch {
      continue;
    }
    for (const h of holders(state)) if (h.reservation === undefined && !recorded.has(`${name}/${h.address}/${h.token}`)) out.push({ pool: name, address: h.address, token: h.token });
  }
  return out;
}
