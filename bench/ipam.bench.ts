/**
 * Micro-benchmark of the address core. Run: npx tsx bench/ipam.bench.ts
 * docs/performance.md records its output and explains the figures.
 */
import { performance } from "node:perf_hooks";
import { allocate, applyPoolRequests, release } from "../ipam/allocation/batch.js";
import { decodeAllocations, encodeAllocations } from "../ipam/allocation/codec.js";
import { type PoolView, buildPoolView } from "../ipam/allocation/pool-view.js";
import type { PoolRequest } from "../ipam/allocation/requests.js";
import { type PoolAllocations, emptyAllocations, holders } from "../ipam/allocation/state.js";

const rows: [string, string][] = [];
const row = (what: string, value: string) => rows.push([what, value]);
function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const out = fn();
  return [out, performance.now() - t0];
}
const ms = (x: number) => `${x.toFixed(1)} ms`;
const per = (total: number, n: number, unit: string) => `${ms(total)} (${((total * 1000) / n).toFixed(2)} µs/${unit})`;
const bytes = (s: string) => `${Buffer.byteLength(s)} B (${(Buffer.byteLength(s) / 1024).toFixed(1)} KiB)`;

const N = 65_536;
const now = 1_700_000_000_000;
const noCool = { now, coolDownMs: 0 };
const cool = { now, coolDownMs: 30_000 };
const v4: PoolView = buildPoolView({ metadata: { name: "bench-v4" }, spec: { subnet: "10.0.0.0/16", ips: ["10.0.0.0-10.0.255.255"] } });
const releasesOf = (s: PoolAllocations): PoolRequest[] =>
  [...holders(s)].map((h) => ({ kind: "release", address: h.address, token: h.token }));
const allocations = (n: number): PoolRequest[] => Array.from({ length: n }, () => ({ kind: "allocate" }));

// --- IPv4 /16, one request per call through the pure single-request API -------------------
const [full, tAlloc] = time(() => {
  let s: PoolAllocations = emptyAllocations();
  for (let i = 0; i < N; i++) s = allocate(v4, s, {}, noCool).state;
  return s;
});
row(`IPv4 /16: allocate all ${N}, one call each`, per(tAlloc, N, "alloc"));
const [, tRel] = time(() => {
  let s = full;
  for (const h of [...holders(full)]) s = release(v4, s, h.address, h.token, noCool).state;
  return s;
});
row(`IPv4 /16: release all ${N}, one call each (no cool-down)`, per(tRel, N, "release"));

// --- the same through group commit: one batch in, one record out --------------------------
const [batch, tBatch] = time(() => applyPoolRequests(v4, emptyAllocations(), allocations(N), noCool));
row(`IPv4 /16: allocate all ${N} in one batch`, per(tBatch, N, "alloc"));
const [cooled, tBatchRel] = time(() => applyPoolRequests(v4, batch.state, releasesOf(batch.state), cool));
row(`IPv4 /16: release all ${N} in one batch (30 s cool-down)`, per(tBatchRel, N, "release"));
const [, tReuse] = time(() => applyPoolRequests(v4, cooled.state, allocations(N), { now: now + 1, coolDownMs: 0 }));
row(`IPv4 /16: re-allocate all ${N} from cooling, one batch`, per(tReuse, N, "alloc"));

// --- single calls against a big record: each call copies the part it changes --------------
const almost = applyPoolRequests(v4, batch.state, releasesOf(batch.state).slice(0, N - 1000), cool).state;
const [, tBig] = time(() => {
  let s = almost;
  for (const h of [...holders(almost)]) s = release(v4, s, h.address, h.token, cool).state;
  return s;
});
row("  1 call = 1 release with ~65k addresses cooling", per(tBig, 1000, "release"));
const [, tBigAlloc] = time(() => {
  let s = cooled.state;
  for (let i = 0; i < 100; i++) s = allocate(v4, s, {}, { now: now + 1, coolDownMs: 0 }).state;
  return s;
});
row("  1 call = 1 allocation with ~65k addresses cooling", per(tBigAlloc, 100, "alloc"));

// --- the wire --------------------------------------------------------------------------------
row("status.allocations, pool filled lowest-first", bytes(encodeAllocations(batch.state, v4.subnet)));
// Worst case: every address its own run with an unrelated token. Pin the addresses in a
// shuffled order, so no two neighbours have consecutive tokens.
let seed = 42;
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const order = Array.from({ length: N }, (_, i) => i);
for (let i = order.length - 1; i > 0; i--) {
  const j = Math.floor(rnd() * (i + 1));
  [order[i], order[j]] = [order[j] as number, order[i] as number];
}
const pinned: PoolRequest[] = order.map((i) => ({ kind: "allocate", address: { family: 4, value: v4.subnet.network + BigInt(i) } }));
const worst = applyPoolRequests(v4, emptyAllocations(), pinned, noCool).state;
const [worstText, tEncode] = time(() => encodeAllocations(worst, v4.subnet));
row(`  worst case: ${worst.runs.length} runs, shuffled tokens`, bytes(worstText));
row("  encode / decode the worst case", `${ms(tEncode)} / ${ms(time(() => decodeAllocations(worstText, v4.subnet))[1])}`);
const allCooling = applyPoolRequests(v4, worst, releasesOf(worst).reverse(), cool).state;
row(`  all ${N} cooling down, released at once`, bytes(encodeAllocations(allCooling, v4.subnet)));
// Worst case for cool-downs: every address released at its own time, in shuffled order.
// Built directly: releasing 65,536 addresses one call at a time would only measure copying.
const scattered: PoolAllocations = {
  ...emptyAllocations(),
  cooling: order.map((_, i) => ({ address: v4.subnet.network + BigInt(i), until: now + 30_000 + (order[i] as number) * 7 })),
};
row(`  all ${N} cooling down, released at shuffled times`, bytes(encodeAllocations(scattered, v4.subnet)));
const withPending = applyPoolRequests(
  v4,
  emptyAllocations(),
  Array.from({ length: 1000 }, (_, i) => ({
    kind: "allocate" as const,
    reservation: { id: `${i.toString(36).padStart(2, "0")}k4x9q`, owner: `default/web-7d9f8c5b4-${i}`, expiresAt: now + 300_000 },
  })),
  noCool,
).state;
row("  one pending reservation (id 7 chars, owner 26 chars)", `${(Buffer.byteLength(encodeAllocations(withPending, v4.subnet)) / 1000).toFixed(1)} B`);

// --- IPv6 /64: never enumerated --------------------------------------------------------------
const v6 = buildPoolView({ metadata: { name: "bench-v6" }, spec: { subnet: "fd00::/64", ips: ["fd00::-fd00::ffff:ffff:ffff:ffff"], gateway: "fd00::1" } });
const [s6, t6] = time(() => {
  let s = emptyAllocations();
  for (let i = 0; i < 10_000; i++) s = allocate(v6, s, {}, noCool).state;
  return s;
});
row("IPv6 /64: 10,000 allocations, one call each", per(t6, 10_000, "alloc"));
const [, t6b] = time(() => applyPoolRequests(v6, emptyAllocations(), allocations(10_000), noCool));
row("IPv6 /64: 10,000 allocations in one batch", per(t6b, 10_000, "alloc"));
row("  status.allocations after 10,000", bytes(encodeAllocations(s6, v6.subnet)));

const width = Math.max(...rows.map(([w]) => w.length));
console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
for (const [w, value] of rows) console.log(`${w.padEnd(width)}  ${value}`);
