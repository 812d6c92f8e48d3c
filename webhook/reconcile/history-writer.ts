import { createHash } from "node:crypto";
import { CoreV1Api, type KubeConfig, type V1ConfigMap } from "@kubernetes/client-node";
import { parseCIDR } from "../../ipam/address/cidr.js";
import type { SpiderEndpoint } from "../../ipam/kinds/endpoint.js";
import type { SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { appendHistory, historyBlock, parseHistory, type HistoryEntry } from "../../ipam/lifecycle/address-history.js";
import type { RecordedAddress } from "../../ipam/lifecycle/endpoints.js";
import { ConflictError, type Cache, type Clock, type Log } from "../../ipam/ports.js";
import { retry } from "../../ipam/retry.js";
import { CONFLICT_RETRY } from "../../ipam/lifecycle/pool-writer.js";
import { isNotFound } from "../../k8s/resources.js";

const HISTORY_LABEL = "spiderpool.spidernet.io/address-history";
const POOL_ANNOTATION = "spiderpool.spidernet.io/pool";
const FLUSH_EVERY_MS = 2000;

/** The ConfigMap of one block of a pool's history (a hash stands in for a pool name too long for it). */
export function historyObjectName(pool: string, block: string): string {
  const name = `spiderpool-history-${pool}-${block}`;
  return name.length <= 253 ? name : `spiderpool-history-${createHash("sha256").update(pool).digest("hex").slice(0, 16)}-${block}`;
}

/**
 * Keeps the address history (ipam/lifecycle/address-history.ts) in ConfigMaps of the
 * controller's namespace, one per pool and block of 256 addresses. Releases are buffered and
 * written every two seconds, one compare-and-swap per block touched: history never slows a
 * release, and what a crash loses is history, never an address.
 */
export class HistoryWriter {
  private readonly buffered = new Map<string, { pool: string; block: string; entries: HistoryEntry[] }>();
  private timer?: NodeJS.Timeout;
  private readonly core: CoreV1Api;

  constructor(
    kc: KubeConfig,
    private readonly d: { namespace: string; pools: Cache<SpiderIPPool>; clock: Clock; log: Log },
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** Notes the release of what an endpoint recorded (the binder's onRelease). */
  record(reason: string, released: readonly RecordedAddress[], ep: SpiderEndpoint): void {
    const created = ep.metadata.creationTimestamp ? new Date(ep.metadata.creationTimestamp).getTime() : 0;
    for (const a of released) {
      const pool = this.d.pools.get(a.pool);
      if (!pool) continue;
      const block = historyBlock(a.address - parseCIDR(pool.spec.subnet).network);
      const key = `${a.pool}/${block}`;
      const b = this.buffered.get(key) ?? { pool: a.pool, block, entries: [] };
      b.entries.push({ address: a.text.split("/")[0] ?? a.text, pod: `${ep.metadata.namespace ?? ""}/${ep.metadata.name ?? ""}`, uid: ep.status?.current?.uid ?? "", from: created, until: this.d.clock.now(), reason });
      this.buffered.set(key, b);
    }
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_EVERY_MS);
  }

  /** Writes what is buffered; a block that cannot be written is logged and its entries dropped. */
  async flush(): Promise<void> {
    this.timer = undefined;
    const batches = [...this.buffered.values()];
    this.buffered.clear();
    for (const b of batches) {
      try {
        await retry(() => this.write(b.pool, b.block, b.entries), { policy: CONFLICT_RETRY, clock: this.d.clock, retryable: (err) => err instanceof ConflictError });
      } catch (err) {
        this.d.log.warn({ err, pool: b.pool, block: b.block, entries: b.entries.length }, "address history not written");
      }
    }
  }

  private async write(pool: string, block: string, entries: readonly HistoryEntry[]): Promise<void> {
    const { namespace } = this.d;
    const name = historyObjectName(pool, block);
    const current = await this.read(name);
    const body: V1ConfigMap = {
      metadata: { name, namespace, labels: { [HISTORY_LABEL]: "true" }, annotations: { [POOL_ANNOTATION]: pool }, ...(current?.metadata?.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}) },
      data: { history: appendHistory(current?.data?.history, entries) },
    };
    try {
      if (current) await this.core.replaceNamespacedConfigMap({ name, namespace, body });
      else await this.core.createNamespacedConfigMap({ namespace, body });
    } catch (err) {
      if ((err as { code?: number }).code === 409) throw new ConflictError(`history ${name} changed meanwhile`);
      throw err;
    }
  }

  private async read(name: string): Promise<V1ConfigMap | undefined> {
    try {
      return await this.core.readNamespacedConfigMap({ name, namespace: this.d.namespace });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** The history of a pool (every block), or of one of its addresses. */
  async history(pool: string, address?: string): Promise<HistoryEntry[]> {
    const list = await this.core.listNamespacedConfigMap({ namespace: this.d.namespace, labelSelector: `${HISTORY_LABEL}=true` });
    const entries = list.items.filter((cm) => cm.metadata?.annotations?.[POOL_ANNOTATION] === pool).flatMap((cm) => parseHistory(cm.data?.history));
    return entries.filter((e) => address === undefined || e.address === address).sort((a, b) => a.until - b.until);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
