import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { KubeConfig } from "@kubernetes/client-node";
import { applyCrds } from "../../local-cluster/kube.js";
import { assignedOf, createPod, createPool, podSpec } from "../../local-cluster/pods.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { testKubeConfig } from "../harness/kube.js";

const BURST = 100;

/**
 * The kube-apiserver keeps at most 25 idle HTTP/1.1 connections to a webhook, so a burst of
 * more admissions than that at once makes it open (and handshake, with its client
 * certificate) new connections again and again. To a webhook at a loopback URL, as here, it
 * offers HTTP/2, and then sends them all over one.
 */
describe("the apiserver's connections to the admission webhook", () => {
  let kc: KubeConfig;
  let tc: TestController;
  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "conns");
    await createPool(kc, tc.labels, "conns-pool", { subnet: "10.216.1.0/24", ips: ["10.216.1.1-10.216.1.200"] });
  });
  afterAll(() => tc.stop());

  /** Connections `controller` accepted so far, by protocol. */
  async function accepted(controller: TestController): Promise<Record<string, number>> {
    const metric = await controller.controller.metrics.connections.get();
    return Object.fromEntries(metric.values.map((v) => [String(v.labels.protocol), v.value]));
  }

  /** The connections `controller` accepted for a burst of `n` Pods created at once (after one Pod that warms the path). */
  async function burst(controller: TestController, pool: string, n: number): Promise<{ opened: Record<string, number>; total: Record<string, number> }> {
    const ns = await controller.createPodNamespace("conns");
    const pod = podSpec({ generateName: "burst-" }, { "ipam.spidernet.io/ippool": JSON.stringify({ ipv4: [pool] }) });
    await createPod(kc, ns, pod);
    const before = await accepted(controller);
    const pods = await Promise.all(Array.from({ length: n }, () => createPod(kc, ns, pod)));
    expect(new Set(pods.map((p) => assignedOf(p).ips[0]?.ipv4)).size).toBe(n);
    const total = await accepted(controller);
    return { opened: Object.fromEntries(Object.keys(total).map((p) => [p, (total[p] ?? 0) - (before[p] ?? 0)])), total };
  }

  it(`takes a burst of ${BURST} Pod admissions over HTTP/2 on one connection`, async () => {
    const { opened, total } = await burst(tc, "conns-pool", BURST);
    expect(opened["http/1.1"] ?? 0).toBe(0);
    expect(opened.h2 ?? 0).toBeLessThanOrEqual(1);
    expect(total.h2).toBeGreaterThanOrEqual(1);
  });

  it("speaks HTTP/1.1 only when HTTP/2 is switched off", async () => {
    const plain = await startTestController(kc, "conns11", { SPIDERPOOL_WEBHOOK_HTTP2: "false" });
    try {
      await createPool(kc, plain.labels, "conns11-pool", { subnet: "10.216.2.0/24", ips: ["10.216.2.1-10.216.2.100"] });
      const { opened, total } = await burst(plain, "conns11-pool", 30);
      expect(total.h2 ?? 0).toBe(0);
      expect(opened["http/1.1"]).toBeGreaterThanOrEqual(1);
    } finally {
      await plain.stop();
    }
  });
});
