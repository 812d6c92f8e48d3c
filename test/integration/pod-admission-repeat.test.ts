import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { KubeConfig } from "@kubernetes/client-node";
import { randomUUID } from "node:crypto";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { allocatedCount } from "../../ipam/allocation/state.js";
import { parseCIDR } from "../../ipam/address/cidr.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { CustomResources } from "../../k8s/resources.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { applyCrds } from "../../local-cluster/kube.js";
import { callController, podCreateReview, servingCa } from "../harness/admission-client.js";
import { testKubeConfig } from "../harness/kube.js";
import { createPool, podSpec } from "../../local-cluster/pods.js";

/**
 * The apiserver may call a webhook more than once for one request (and answers can be
 * lost): the same AdmissionReview, sent twice straight to the webhook, must get the same
 * reservation, not a second address.
 */
describe("a repeated Pod admission", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let ca: string;
  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "repeat");
    await createPool(kc, tc.labels, "repeat-pool", { subnet: "10.83.0.0/24", ips: ["10.83.0.10-10.83.0.19"] });
    ca = await servingCa(kc, tc);
  });
  afterAll(() => tc.stop());

  const review = (uid: string, namespace: string): object => podCreateReview(namespace, podSpec({ generateName: "web-" }, { "ipam.spidernet.io/ippool": '{"ipv4":["repeat-pool"]}' }), { uid });

  /** As the apiserver calls it: with its webhook client certificate. */
  async function post(body: object): Promise<{ response: { uid: string; allowed: boolean; patch?: string } }> {
    const answer = await callController(tc.controller.port, "/webhooks/mutate-pod", JSON.stringify(body), { ca, asApiserver: true });
    return JSON.parse(answer.body) as { response: { uid: string; allowed: boolean; patch?: string } };
  }

  const held = async (): Promise<number> => {
    const p = (await new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL).get("repeat-pool")) as SpiderIPPool;
    return allocatedCount(decodeAllocations(p.status?.allocations, parseCIDR(p.spec.subnet)));
  };

  it("gets the same reservation for the same request uid, and another one for another request", async () => {
    const ns = await tc.createPodNamespace("repeat");
    const uid = randomUUID();
    const first = await post(review(uid, ns));
    const second = await post(review(uid, ns));
    expect(first.response.allowed).toBe(true);
    expect(second.response).toEqual(first.response);
    expect(await held()).toBe(1);
    const other = await post(review(randomUUID(), ns));
    expect(other.response.patch).not.toEqual(first.response.patch);
    expect(await held()).toBe(2);
  });
});
