import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { KubeConfig } from "@kubernetes/client-node";
import type { ClientHttp2Session } from "node:http2";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { applyCrds } from "../../local-cluster/kube.js";
import { admissionClientFiles } from "../../local-cluster/pki.js";
import { createPool, podSpec } from "../../local-cluster/pods.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { callController, http2Session, podCreateReview, servingCa } from "../harness/admission-client.js";
import { testKubeConfig } from "../harness/kube.js";
import { testClusterState } from "../harness/test-cluster.js";

/**
 * The HTTPS port speaks HTTP/2 to clients that offer it (the apiserver does at a loopback URL), through the
 * same routes and guards as HTTP/1.1: what a caller may do and the answers to bad bodies
 * must not depend on the protocol it chose.
 */
describe("the HTTPS port over HTTP/2", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let ca: string;
  let apiserver: { cert: string; key: string };
  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "htwo");
    await createPool(kc, tc.labels, "htwo-pool", { subnet: "10.216.0.0/24", ips: ["10.216.0.10-10.216.0.19"] });
    ca = await servingCa(kc, tc);
    const files = admissionClientFiles(join(testClusterState().dir, "pki"));
    apiserver = { cert: readFileSync(files.webhookClientCert, "utf8"), key: readFileSync(files.webhookClientKey, "utf8") };
  });
  afterAll(() => tc.stop());

  const review = (namespace: string): object => podCreateReview(namespace, podSpec({ generateName: "h2-" }, { "ipam.spidernet.io/ippool": '{"ipv4":["htwo-pool"]}' }), { dryRun: true });

  const message = (body: string): string => (JSON.parse(body) as { message: string }).message;
  const closed = (session: ClientHttp2Session): Promise<void> => new Promise((resolve) => (session.closed ? resolve() : session.once("close", () => resolve())));

  it("answers the apiserver's admissions, bad bodies and unknown webhooks on one session", async () => {
    const ns = await tc.createPodNamespace("htwo");
    const session = http2Session(tc.controller.port, ca, apiserver);
    try {
      const call = (path: string, body: string) => callController(tc.controller.port, path, body, { ca, http2: session });
      const admitted = await call("/webhooks/mutate-pod", JSON.stringify(review(ns)));
      expect(admitted.status).toBe(200);
      expect((JSON.parse(admitted.body) as { response: { allowed: boolean; patch?: string } }).response).toMatchObject({ allowed: true, patch: expect.any(String) });
      const notJson = await call("/webhooks/mutate-pod", "{not json");
      expect(notJson.status).toBe(400);
      expect(message(notJson.body)).toContain("not valid JSON");
      const tooLarge = await call("/webhooks/mutate-pod", JSON.stringify({ pad: "x".repeat(17 * 1024 * 1024) }));
      expect(tooLarge.status).toBe(413);
      expect(message(tooLarge.body)).toContain("larger than this route accepts");
      const unknown = await call("/webhooks/mutate-nothing", JSON.stringify(review(ns)));
      expect(unknown.status).toBe(404);
      // Still the same session, still answering.
      expect((await call("/webhooks/mutate-pod", JSON.stringify(review(ns)))).status).toBe(200);
      expect(session.closed).toBe(false);
    } finally {
      session.close();
    }
  });

  it("refuses an admission call without the apiserver's certificate, and ends that session", async () => {
    const session = http2Session(tc.controller.port, ca);
    const refused = await callController(tc.controller.port, "/webhooks/mutate-pod", JSON.stringify(review("default")), { ca, http2: session });
    expect(refused.status).toBe(401);
    expect(refused.body).toContain("admission webhooks answer the kube-apiserver only");
    await closed(session);
  });

  it("authenticates late allocation before it reads the body", async () => {
    const answer = await callController(tc.controller.port, "/v1/allocate", "{not json", { ca, http2: true });
    expect(answer.status).toBe(401);
  });

  it("stops without waiting out its grace for an idle HTTP/2 session", async () => {
    const other = await startTestController(kc, "htwostop");
    const otherCa = await servingCa(kc, other);
    const session = http2Session(other.controller.port, otherCa, apiserver);
    const answer = await callController(other.controller.port, "/webhooks/nothing", "{}", { ca: otherCa, http2: session });
    expect(answer.status).toBe(404);
    const started = performance.now();
    await other.stop();
    await closed(session);
    // The server's grace is 10 s: an open session that was not asked to go would hold it that long.
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
