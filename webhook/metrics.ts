import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { decodeAllocations } from "../ipam/allocation/codec.js";
import { buildPoolView } from "../ipam/allocation/pool-view.js";
import { poolUsage } from "../ipam/allocation/usage.js";
import type { PoolRequest } from "../ipam/allocation/requests.js";
import type { SpiderIPPool } from "../ipam/kinds/ippool.js";
import type { SpiderSubnet } from "../ipam/kinds/subnet.js";
import type { ConsistencyReport } from "../ipam/lifecycle/consistency.js";
import { registerProcessMetrics } from "../runtime/process-metrics.js";

/**
 * The controller's Prometheus metrics, in a private registry (never prom-client's global
 * one, so two controllers in one process, as in the tests, do not collide).
 */
export class ControllerMetrics {
  readonly registry = new Registry();

  readonly admissionRequests = new Counter({
    name: "spiderpool_webhook_requests_total",
    help: "Admission reviews answered, by webhook, operation and result (allowed, denied, error).",
    labelNames: ["webhook", "operation", "result"] as const,
    registers: [this.registry],
  });

  readonly admissionDuration = new Histogram({
    name: "spiderpool_webhook_request_duration_seconds",
    help: "Time to answer an admission review, by webhook.",
    labelNames: ["webhook"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly connections = new Counter({
    name: "spiderpool_webhook_connections_total",
    help: "TLS connections accepted on the HTTPS port (admission webhooks, agents' routes), by the protocol agreed in the handshake (h2, http/1.1).",
    labelNames: ["protocol"] as const,
    registers: [this.registry],
  });

  readonly certificateRotations = new Counter({
    name: "spiderpool_webhook_certificate_rotations_total",
    help: "Serving certificate and CA rotations performed, by what was rotated (serving, ca).",
    labelNames: ["what"] as const,
    registers: [this.registry],
  });

  // The IPAM family, named as Spiderpool's dashboards expect.
  readonly allocations = new Counter({
    name: "spiderpool_ipam_allocation_counts_total",
    help: "Pod admissions whose addresses were reserved.",
    registers: [this.registry],
  });

  readonly allocationFailures = new Counter({
    name: "spiderpool_ipam_allocation_failure_counts_total",
    help: "Pod admissions refused or failed, by reason (an error code such as POOL_EXHAUSTED).",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  readonly poolConflicts = new Counter({
    name: "spiderpool_ipam_allocation_update_ippool_conflict_counts_total",
    help: "Pool writes carrying an allocation (or the binding of one) that lost a compare-and-swap and were retried.",
    registers: [this.registry],
  });

  readonly usedOut = new Counter({
    name: "spiderpool_ipam_allocation_err_ip_used_out_counts_total",
    help: "Pod admissions refused because every candidate pool was full.",
    registers: [this.registry],
  });

  readonly noPool = new Counter({
    name: "spiderpool_ipam_allocation_err_no_available_pool_counts_total",
    help: "Pod admissions refused because no pool could serve the pod.",
    registers: [this.registry],
  });

  readonly allocationDuration = new Histogram({
    name: "spiderpool_ipam_allocation_duration_seconds",
    help: "Time to reserve a Pod's addresses at admission.",
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly poolWrites = new Histogram({
    name: "spiderpool_ipam_pool_write_batch_size",
    help: "Requests carried by one pool write (group commit).",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });

  readonly stock = new Counter({
    name: "spiderpool_ipam_reservation_stock_counts_total",
    help: "Reservations made ahead of admissions (made), handed to a Pod's admission (taken), admissions the stock could not serve though it could have (missed), given back unused (released), found unusable (voided: too old, its pool edited or its record changed) or given back after being handed to a Pod never created (refused).",
    labelNames: ["event"] as const,
    registers: [this.registry],
  });

  readonly releases = new Counter({
    name: "spiderpool_ipam_release_counts_total",
    help: "Addresses released, by reason.",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  readonly gc = new Counter({
    name: "spiderpool_ip_gc_counts_total",
    help: "Addresses reclaimed by the collectors, by reason.",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  readonly gcFailures = new Counter({
    name: "spiderpool_ip_gc_failure_counts_total",
    help: "Reclamation attempts that failed (and are retried), by reason.",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  // The consistency checker's last report (full scan), per pool.
  readonly leaked = new Gauge({ name: "spiderpool_ip_gc_leaked_ip_counts", help: "Addresses a pool holds with no live owner, at the last full scan.", labelNames: ["pool"] as const, registers: [this.registry] });
  readonly missing = new Gauge({ name: "spiderpool_ip_gc_missing_ip_counts", help: "Addresses live owners record that their pool does not hold, at the last full scan.", labelNames: ["pool"] as const, registers: [this.registry] });
  readonly duplicates = new Gauge({ name: "spiderpool_ip_gc_duplicate_ip_counts", help: "Addresses claimed by two or more live owners, at the last full scan.", labelNames: ["pool"] as const, registers: [this.registry] });
  readonly expired = new Gauge({ name: "spiderpool_ip_gc_expired_reservation_counts", help: "Reservations past their lifetime, at the last full scan.", labelNames: ["pool"] as const, registers: [this.registry] });

  readonly poolTotal = new Gauge({ name: "spiderpool_ippool_total_ip_counts", help: "Addresses of a pool (|ips - excludeIPs|).", labelNames: ["pool"] as const, registers: [this.registry] });
  readonly poolAvailable = new Gauge({ name: "spiderpool_ippool_available_ip_counts", help: "Addresses a pool can still hand out.", labelNames: ["pool"] as const, registers: [this.registry] });
  readonly poolCount = new Gauge({ name: "spiderpool_total_ippool_counts", help: "SpiderIPPools in the cluster.", registers: [this.registry] });
  readonly subnetCount = new Gauge({ name: "spiderpool_total_subnet_counts", help: "SpiderSubnets in the cluster.", registers: [this.registry] });

  // The release family, as Spiderpool names it (the counts by reason are `releases` above).
  readonly releaseFailures = new Counter({
    name: "spiderpool_ipam_release_failure_counts_total",
    help: "Address releases that failed, by reason (an error code such as POOL_NOT_FOUND, or UNAVAILABLE when the pool could not be written).",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  readonly releaseConflicts = new Counter({
    name: "spiderpool_ipam_release_update_ippool_conflict_counts_total",
    help: "Pool writes carrying a release that lost a compare-and-swap and were retried.",
    registers: [this.registry],
  });

  readonly releaseDuration = new Histogram({
    name: "spiderpool_ipam_release_duration_seconds",
    help: "Time to release addresses in one pool (its pool write included).",
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  // Pool and subnet gauges, computed from the caches when /metrics is scraped.
  readonly poolAllocated = new Gauge({ name: "spiderpool_ippool_allocated_ip_counts", help: "Addresses a pool holds for Pods (reserved or bound).", labelNames: ["pool"] as const, registers: [this.registry] });
  readonly subnetPools = new Gauge({ name: "spiderpool_subnet_ippool_counts", help: "SpiderIPPools that hold addresses of a subnet.", labelNames: ["subnet"] as const, registers: [this.registry] });
  readonly subnetTotal = new Gauge({ name: "spiderpool_subnet_total_ip_counts", help: "Addresses of a subnet (|ips - excludeIPs|).", labelNames: ["subnet"] as const, registers: [this.registry] });
  readonly subnetAvailable = new Gauge({ name: "spiderpool_subnet_available_ip_counts", help: "Addresses of a subnet not yet handed to a pool.", labelNames: ["subnet"] as const, registers: [this.registry] });

  constructor(processMetrics = false) {
    if (processMetrics) registerProcessMetrics(this.registry, "spiderpool_controller_");
  }

  /** Per-pool gauges from the caches, computed when /metrics is scraped (a pool that does not parse is skipped). */
  refreshPools(pools: readonly SpiderIPPool[], subnets: number): void {
    this.poolCount.set(pools.length);
    this.subnetCount.set(subnets);
    this.poolTotal.reset();
    this.poolAvailable.reset();
    this.poolAllocated.reset();
    for (const p of pools) {
      try {
        const view = buildPoolView(p);
        const usage = poolUsage(view, decodeAllocations(p.status?.allocations, view.subnet));
        this.poolTotal.set({ pool: p.metadata.name ?? "" }, usage.total);
        this.poolAvailable.set({ pool: p.metadata.name ?? "" }, usage.available);
        this.poolAllocated.set({ pool: p.metadata.name ?? "" }, usage.allocated);
      } catch {
        continue;
      }
    }
  }

  /** Per-subnet gauges from the subnets' status (a subnet whose status is not written yet is skipped). */
  refreshSubnets(subnets: readonly SpiderSubnet[]): void {
    for (const g of [this.subnetPools, this.subnetTotal, this.subnetAvailable]) g.reset();
    for (const s of subnets) {
      const status = s.status;
      if (status?.totalIPCount === undefined) continue;
      const subnet = s.metadata.name ?? "";
      this.subnetPools.set({ subnet }, Object.keys(status.controlledIPPools ?? {}).length);
      this.subnetTotal.set({ subnet }, status.totalIPCount);
      this.subnetAvailable.set({ subnet }, Math.max(0, status.totalIPCount - (status.allocatedIPCount ?? 0)));
    }
  }

  /** A pool write lost its compare-and-swap: counted in the family of what it carried. */
  observeConflict(requests: readonly PoolRequest[]): void {
    if (requests.some((r) => r.kind === "allocate" || r.kind === "bind")) this.poolConflicts.inc();
    if (requests.some((r) => r.kind === "release" || r.kind === "release-reservation")) this.releaseConflicts.inc();
  }

  /** Publishes the consistency checker's report as the per-pool gauges. */
  observeConsistency(report: ConsistencyReport): void {
    for (const g of [this.leaked, this.missing, this.duplicates, this.expired]) g.reset();
    for (const p of report.pools) {
      this.leaked.set({ pool: p.pool }, p.leaked.length);
      this.missing.set({ pool: p.pool }, p.missing.length);
      this.duplicates.set({ pool: p.pool }, p.duplicates.length);
      this.expired.set({ pool: p.pool }, p.expiredReservations.length);
    }
  }

  /** Records one Pod admission's outcome in the allocation family (dry runs are not allocations). */
  observeAdmission({ ok, reason, seconds, dryRun }: { ok: boolean; reason?: string; seconds: number; dryRun: boolean }): void {
    if (dryRun) return;
    this.allocationDuration.observe(seconds);
    if (ok) {
      this.allocations.inc();
      return;
    }
    this.allocationFailures.inc({ reason: reason ?? "UNKNOWN" });
    if (reason === "POOL_EXHAUSTED") this.usedOut.inc();
    if (reason === "NO_CANDIDATE_POOL" || reason === "POOL_NOT_FOUND") this.noPool.inc();
  }
}
