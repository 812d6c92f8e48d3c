import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { Family } from "../../../../ipam/address/ip.js";
import { formatIP } from "../../../../ipam/address/ip.js";
import { applyPoolRequests } from "../../../../ipam/allocation/batch.js";
import { decodeAllocations, encodeAllocations } from "../../../../ipam/allocation/codec.js";
import type { PoolView } from "../../../../ipam/allocation/pool-view.js";
import type { PoolRequest } from "../../../../ipam/allocation/requests.js";
import { type PoolAllocations, allocatedCount, emptyAllocations, holders, pruneCooling } from "../../../../ipam/allocation/state.js";
import { deepFreeze, view } from "./fixtures.js";
import { PoolModel, observed } from "./model.js";

/** Pools of up to ~40 addresses straddling an IPv4 octet or IPv6 word boundary. */
const poolArb: fc.Arbitrary<PoolView> = fc
  .record({
    family: fc.constantFrom<Family>(4, 6),
    ips: fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 12 })), { minLength: 1, maxLength: 3 }),
    excluded: fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 3 })), { maxLength: 2 }),
    gateway: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
    reserved: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 2 }),
  })
  .map(({ family, ips, excluded, gateway, reserved }) => {
    const base = family === 4 ? 0x0a0000f0n : (0xfd00n << 112n) + 0xfff0n;
    const at = (off: number) => formatIP(family, base + BigInt(off));
    const range = ([s, len]: [number, number]) => `${at(s)}-${at(s + len)}`;
    return view(
      "prop",
      {
        subnet: family === 4 ? "10.0.0.0/16" : "fd00::/64",
        ips: ips.map(range),
        excludeIPs: excluded.map(range),
        gateway: gateway === undefined ? undefined : at(gateway),
      },
      reserved.map(at),
    );
  });

/** A request against `v`, addresses drawn around the pool so that misses happen too. */
function requestArb(v: PoolView): fc.Arbitrary<PoolRequest> {
  const base = v.family === 4 ? 0x0a0000f0n : (0xfd00n << 112n) + 0xfff0n;
  const address = fc.bigInt(base - 2n, base + 56n);
  const id = fc.constantFrom("r1", "r2", "r3");
  const owner = fc.option(fc.constantFrom("ns/a", "ns/b"), { nil: undefined });
  const reservation = fc.option(fc.record({ id, owner, expiresAt: fc.constant(10_000) }), { nil: undefined });
  const nic = fc.constantFrom("eth0", "net1");
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant("allocate" as const), reservation, interface: nic }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("allocate" as const),
        reservation,
        address: address.map((value) => ({ family: v.family, value })),
      }),
    },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("release" as const), address, token: fc.integer({ min: 1, max: 60 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("bind" as const), reservation: id }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("release-reservation" as const), reservation: id }) },
  );
}

const scenarioArb = poolArb.chain((v) =>
  fc.record({
    view: fc.constant(v),
    coolDownMs: fc.constantFrom(0, 50),
    batches: fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.array(requestArb(v), { maxLength: 6 })), { maxLength: 14 }),
  }),
);

/** Releases aimed at held addresses with their real token, so that releases often succeed. */
function sharpen(req: PoolRequest, state: PoolAllocations): PoolRequest {
  if (req.kind !== "release") return req;
  const held = [...holders(state)];
  const h = held[req.token % (held.length + 1)];
  return h === undefined || req.token % 3 === 0 ? req : { kind: "release", address: h.address, token: h.token };
}

describe("allocation properties (against a naive model)", () => {
  it("answers like the model, never hands an address out twice, and round-trips on the wire", () => {
    fc.assert(
      fc.property(scenarioArb, ({ view: v, coolDownMs, batches }) => {
        const model = new PoolModel(v);
        let state = deepFreeze(emptyAllocations());
        let now = 0;
        for (const [advance, raw] of batches) {
          now += advance;
          const reqs = raw.map((r) => sharpen(r, state));
          const out = applyPoolRequests(v, state, reqs, { now, coolDownMs });
          reqs.forEach((req, i) => {
            const expected = model.apply(req, now, coolDownMs);
            expect(observed(out.results[i] as never)).toEqual(expected);
          });
          state = deepFreeze(out.state);
          const addresses = [...holders(state)].map((h) => h.address);
          expect(new Set(addresses).size).toBe(addresses.length);
          expect(new Map([...holders(state)].map((h) => [h.address, h.token]))).toEqual(model.held);
          const text = encodeAllocations(state, v.subnet);
          const decoded = decodeAllocations(text, v.subnet);
          expect(decoded).toEqual(state);
          expect(encodeAllocations(decoded, v.subnet)).toBe(text);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("allocate-all then release-all (any order) returns the initial record", () => {
    fc.assert(
      fc.property(poolArb, fc.constantFrom(0, 50), fc.integer(), (v, coolDownMs, seed) => {
        const n = Number(v.allocatable.size());
        const all = Array.from({ length: n + 1 }, () => ({ kind: "allocate" as const }));
        const filled = applyPoolRequests(v, emptyAllocations(), all, { now: 0, coolDownMs });
        expect(filled.results[n]).toMatchObject({ ok: false });
        expect(allocatedCount(filled.state)).toBe(n);
        const held = [...holders(filled.state)];
        const order = held.map((h, i) => ({ h, k: (i * 7919 + seed) % (held.length + 1) })).sort((a, b) => a.k - b.k);
        const released = applyPoolRequests(
          v,
          filled.state,
          order.map(({ h }) => ({ kind: "release" as const, address: h.address, token: h.token })),
          { now: 1, coolDownMs },
        ).state;
        const settled = pruneCooling(released, 1 + coolDownMs);
        expect({ ...settled, nextToken: 1 }).toEqual(emptyAllocations());
        expect(settled.nextToken).toBe(n + 1);
      }),
      { numRuns: 100 },
    );
  });
});
