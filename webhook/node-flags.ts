/**
 * The Node.js flags the controller runs with: in the chart's command, the image's CMD and
 * the local controller processes the benchmarks measure (test/build/chart.test.ts keeps
 * the three the same).
 *
 * V8 lets a small heap grow to several times what it holds before a full collection; the
 * controller's working set is its caches plus the requests in flight, and under a burst of
 * admissions its heap grew to about twice the live data. 30 % growth between collections
 * kept the peak resident memory of the 1,000-Pod scenario at about 160 MiB instead of 200
 * (docs/performance.md); the collections it adds are incremental and concurrent.
 */
export const CONTROLLER_NODE_FLAGS = ["--enable-source-maps", "--heap-growing-percent=30"] as const;
