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
 * certificate) new connections again and again. Over HTTP/2 it sends them all over one.
 */
describe("the apiserver's connections to the admission webhook", () => {
  let kc: KubeConfig;
  let tc: TestController;
  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "conns");
    await createPool(kc, tc.labels, "conns-pool", { subnet: "10.84.0.0/24", ips: ["10.84.0.1-10.84.0.200"] });
  });
  afterAll(() => tc.stop());

  /** Connections the controller accepted so far, by protocol. */
  async function accepted(): Promise<Record<string, number>> {
    const metric = await tc.controller.metrics.connections.get();
    return Object.fromEntries(metric.values.map((v) => [String(v.labels.protocol), v.value]));
  }

  it(`takes a burst of ${BURST} Pod admissions over HTTP/2 on one connection`, async () => {
    const ns = await tc.createPodNamespace("conns");
    const pod = podSpec({ generateName: "burst-" }, { "ipam.spidernet.io/ippool": '{"ipv4":["conns-pool"]}' });
    await createPod(kc, ns, pod);
    const before = await accepted();
    const pods = await Promise.all(Array.from({ length: BURST }, () => createPod(kc, ns, pod)));
    expect(new Set(pods.map((p) => assignedOf(p).ips[0]?.ipv4)).size).toBe(BURST);
    const after = await accepted();
    const opened = Object.fromEntries(Object.keys(after).map((p) => [p, after[p]! - (before[p] ?? 0)]));
    expect(opened["http/1.1"] ?? 0).toBe(0);
    expect(opened.h2 ?? 0).toBeLessThanOrEqual(1);
    expect(after.h2).toBeGreaterThanOrEqual(1);
  });
});
