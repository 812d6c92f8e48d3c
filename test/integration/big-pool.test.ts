import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { parseAddressInCIDR, parseCIDR } from "../../ipam/address/cidr.js";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { CustomResources } from "../../k8s/resources.js";
import { fillReservations, releaseReservations } from "../../local-cluster/big-pool.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { assignedOf, createPod, createPool, podSpec } from "../../local-cluster/pods.js";
import { expectConsistent } from "../harness/consistency.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { testKubeConfig } from "../harness/kube.js";

const V4 = "big-v4";
const V6 = "big-v6";
const RESERVED = 10_000;

/**
 * A pool of 65,536 IPv4 addresses with 10,000 reservations written through the pool
 * writer's batch path, and a pool of a whole IPv6 /64, on the real apiserver; Pods admitted
 * against both get addresses of their own, after the reserved ones, and the records decode.
 */
describe("a 65,536-address IPv4 pool and an IPv6 /64 pool", () => {
  let kc: KubeConfig;
  let tc: TestController;
  const log = pino({ level: "error" });
  const pools = (): CustomResources<SpiderIPPool> => new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL);
  const fill = { pool: V4, count: RESERVED, prefix: "bigfill", expiresAt: Date.now() + 3_600_000 };

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    // Dual-stack, so that every Pod takes an address from each pool.
    tc = await startTestController(kc, "bigpool", {}, "enableIPv4: true\nenableIPv6: true\n");
    await createPool(kc, tc.labels, V4, { subnet: "10.186.0.0/16", ips: ["10.186.0.0-10.186.255.255"] });
    await createPool(kc, tc.labels, V6, { subnet: "fd00:186::/64", ips: ["fd00:186::-fd00:186::ffff:ffff:ffff:ffff"] });
    await waitFor("the pools' counts", async () => (await pools().get(V4))?.status?.totalIPCount === 65_536);
  }, 60_000);
  afterAll(async () => {
    try {
      await expectConsistent(kc, tc.labels);
    } finally {
      await tc.stop();
    }
  });

  it("stores 10,000 reservations written in a few group commits, and admits Pods after them with distinct addresses", async () => {
    const filled = await fillReservations(kc, log, fill);
    expect(filled.responses.every((r) => r.ok)).toBe(true);
    // Group commit: the burst goes in far fewer writes than requests.
    expect(filled.writes).toBeLessThan(RESERVED / 100);
    const stored = (await pools().get(V4)) as SpiderIPPool;
    const record = decodeAllocations(stored.status?.allocations ?? "", parseCIDR("10.186.0.0/16"));
    expect(record.pending).toHaveLength(RESERVED);
    expect(JSON.stringify(stored).length).toBeLessThan(1024 * 1024);

    const ns = await tc.createPodNamespace("bigpool");
    const annotations = { "ipam.spidernet.io/ippool": JSON.stringify({ ipv4: [V4], ipv6: [V6] }) };
    const pods = await Promise.all(Array.from({ length: 5 }, (_, i) => createPod(kc, ns, podSpec(`big-${i}`, annotations))));
    const v4 = pods.map((p) => assignedOf(p).ips[0]?.ipv4 ?? "");
    const v6 = pods.map((p) => assignedOf(p).ips[0]?.ipv6 ?? "");
    expect(new Set(v4).size).toBe(5);
    expect(new Set(v6).size).toBe(5);
    const base = parseCIDR("10.186.0.0/16").network;
    for (const a of v4) {
      // Lowest-first: past the 10,000 reserved offsets (0..9,999), inside the /16.
      const offset = parseAddressInCIDR(a).address.value - base;
      expect(offset).toBeGreaterThanOrEqual(BigInt(RESERVED));
      expect(offset).toBeLessThan(65_536n);
    }
    for (const a of v6) expect(parseAddressInCIDR(a).address.value >> 64n).toBe(parseCIDR("fd00:186::/64").network >> 64n);
    const after = decodeAllocations((await pools().get(V4))?.status?.allocations ?? "", parseCIDR("10.186.0.0/16"));
    expect(after.pending.length).toBeGreaterThanOrEqual(RESERVED);
  }, 120_000);

  it("releases the 10,000 reservations in one batch, leaving the Pods' addresses held", async () => {
    await releaseReservations(kc, log, fill);
    const record = decodeAllocations((await pools().get(V4))?.status?.allocations ?? "", parseCIDR("10.186.0.0/16"));
    expect(record.pending.filter((p) => p.id.startsWith("bigfill-"))).toHaveLength(0);
  }, 60_000);
});
