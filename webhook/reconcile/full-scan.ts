import type { GcSettings } from "../../ipam/kinds/cluster-config.js";
import { checkConsistency, type ConsistencyReport } from "../../ipam/lifecycle/consistency.js";
import { releaseOrphans } from "../../ipam/lifecycle/orphans.js";
import type { Allocator, Clock, Log } from "../../ipam/ports.js";
import type { LeaderTask } from "./leader-task.js";
import type { LiveReads } from "./live-reads.js";
import type { PodBinding } from "./pod-binding.js";

const SETTLE_WAIT_MS = 60_000;

export interface FullScanDeps {
  binding: PodBinding;
  live: LiveReads;
  allocator: Allocator;
  gc: () => GcSettings;
  /** Resolves once the caches the scan starts from have their first list. */
  synced: () => Promise<void>;
  clock: Clock;
  log: Log;
  onOrphansReleased?: (count: number) => void;
  onReport?: (report: ConsistencyReport) => void;
}

/** The consistency of what the apiserver holds now (any replica may answer it). */
export async function liveConsistency(live: LiveReads, now: () => number): Promise<ConsistencyReport> {
  // Pools first: an address is bound only after its endpoint is written, so endpoints and
  // Pods read after the pools know every owner the pools' bound addresses have.
  const pools = await live.pools();
  const [endpoints, pods] = await Promise.all([live.endpoints(), live.pods()]);
  return checkConsistency({ pools, endpoints, pods, now: now() });
}

/**
 * The periodic full scan (api.md: every gcIPInterval, at election, on demand) catches what
 * the event path missed: every Pod and endpoint through the binder again, expired
 * reservations collected, bound addresses no endpoint records released (when the previous
 * scan found them orphaned too), and the
 * consistency report computed on live reads and published.
 */
export class FullScan implements LeaderTask {
  private leading = false;
  /** Each term of leadership runs one chain of scans; a chain of an earlier term stops. */
  private term = 0;
  private timer?: NodeJS.Timeout;
  /** Aborted when leadership ends: a scan's wait for the binder ends with it. */
  private stopping = new AbortController();
  private running?: Promise<ConsistencyReport>;
  /** Orphaned holdings the last scan found; the next releases those still orphaned. */
  private suspects: ReadonlySet<string> = new Set();
  last?: ConsistencyReport;

  constructor(private readonly d: FullScanDeps) {}

  startLeading(): void {
    this.leading = true;
    this.stopping = new AbortController();
    const term = ++this.term;
    void this.d.synced().then(() => this.runAndSchedule(term));
  }

  private async runAndSchedule(term: number): Promise<void> {
    if (!this.leading || term !== this.term) return;
    try {
      await this.scan();
    } catch (err) {
      // The next scan tries again; an apiserver that restarts makes one fail now and then.
      this.d.log.warn({ err }, "full scan failed");
    }
    if (this.leading && term === this.term) this.timer = setTimeout(() => void this.runAndSchedule(term), this.d.gc().intervalMs);
  }

  /** One scan now; a scan asked for while one runs gets that one's report. */
  scan(): Promise<ConsistencyReport> {
    this.running ??= this.scanOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async scanOnce(): Promise<ConsistencyReport> {
    const started = this.d.clock.now();
    if (this.d.gc().enabled) {
      this.d.binding.resyncAll();
      // Under a steady churn the queue may never be empty: the report waits a minute at most.
      await Promise.race([this.d.binding.settled(), this.d.clock.sleep(SETTLE_WAIT_MS, this.stopping.signal)]);
      await this.d.binding.collectExpired();
      const orphans = await releaseOrphans({ pools: this.d.live.pools, endpoints: this.d.live.endpoints, allocator: this.d.allocator, log: this.d.log }, this.suspects);
      this.suspects = orphans.seen;
      if (orphans.released.length > 0) this.d.onOrphansReleased?.(orphans.released.length);
    }
    const report = await liveConsistency(this.d.live, () => this.d.clock.now());
    this.last = report;
    this.d.onReport?.(report);
    const level = report.leaked + report.missing + report.duplicates > 0 ? "warn" : "info";
    this.d.log[level]({ leaked: report.leaked, missing: report.missing, duplicates: report.duplicates, expiredReservations: report.expiredReservations, ms: this.d.clock.now() - started }, "full scan done");
    return report;
  }

  stopLeading(): void {
    this.leading = false;
    this.stopping.abort();
    if (this.timer) clearTimeout(this.timer);
  }

  async settled(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  stop(): void {
    this.stopLeading();
  }
}
