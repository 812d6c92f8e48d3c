/**
 * Fuzzing every admission webhook of a running controller with fast-check: AdmissionReview
 * bodies straight to its HTTPS port (test/harness/admission.ts). Properties: the server
 * never fails (no 5xx: none of these webhooks has a retryable answer), every answer echoes
 * the request uid, every refusal says what is wrong and names a field of the request, and a
 * refused request holds no address. Sizes: test/harness/fuzz.ts (CI size here; the full run
 * and its figures: docs/reliability.md).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { KubeConfig } from "@kubernetes/client-node";
import fc from "fast-check";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { allocatedCount } from "../../ipam/allocation/state.js";
import { isStockReservation } from "../../ipam/lifecycle/reservation-id.js";
import { randomUUID } from "node:crypto";
import { parseCIDR } from "../../ipam/address/cidr.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { CustomResources } from "../../k8s/resources.js";
import { applyCrds } from "../../local-cluster/kube.js";
import { createPool } from "../../local-cluster/pods.js";
import { sendAdmissionReview, type AdmissionAnswer, type AdmissionTarget } from "../harness/admission.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { fuzzParameters, keyNames } from "../harness/fuzz.js";
import { testKubeConfig } from "../harness/kube.js";
import { anyJson, applicationObject, brokenEnvelope, multusConfigSpec, podObject, poolSpec, reservedIPSpec, resourceObject, review } from "../fuzz/arbitraries.js";
import { servingCa } from "../harness/admission-client.js";

const CI_RUNS = 200;

/** Words a refusal may use to name where the problem is, besides the request's own keys. */
const FIELD_WORDS = ["metadata", "spec", "annotation", "object", "namespace", "name", "operation", "kind", "request", "uid", "replicas", "template"];

interface Review {
  request: { uid: string; object?: unknown; oldObject?: unknown; operation: string; dryRun: boolean };
}

/** The request's key names and annotation keys, lowercased. */
function fieldsOf(r: Review): string[] {
  const keys = keyNames({ object: r.request.object, oldObject: r.request.oldObject });
  return [...keys, ...FIELD_WORDS].map((k) => k.toLowerCase()).filter((k) => k.length > 1);
}

type Problem = string | undefined;

/** What is wrong with one answer, or undefined. */
function judge(r: Review, a: AdmissionAnswer): Problem {
  const body = a.body as { message?: string; response?: { uid?: string; allowed?: boolean; status?: { message?: string } } };
  if (a.status >= 500) return `HTTP ${a.status}: ${JSON.stringify(a.body).slice(0, 300)}`;
  if (a.status === 400) return typeof body.message === "string" && body.message !== "" ? undefined : `400 without a message`;
  if (a.status !== 200) return `HTTP ${a.status}`;
  if (body.response?.uid !== r.request.uid) return `answer uid ${String(body.response?.uid)} for request ${r.request.uid}`;
  if (body.response.allowed) return undefined;
  const msg = body.response.status?.message ?? "";
  if (msg === "") return "a refusal without a message";
  const lower = msg.toLowerCase();
  return fieldsOf(r).some((f) => lower.includes(f)) ? undefined : `a refusal that names no field: ${msg}`;
}

describe("fuzzing the admission webhooks", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let target: AdmissionTarget;
  let ns: string;
  const problems: string[] = [];
  const counts: Record<string, number> = {};

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "fuzzadm");
    await createPool(kc, tc.labels, "fuzz-pool", { subnet: "10.197.0.0/20", ips: ["10.197.0.1-10.197.15.250"] });
    target = { port: tc.controller.port, ca: await servingCa(kc, tc) };
    ns = await tc.createPodNamespace("fuzz");
  });
  afterAll(() => tc.stop());

  async function fuzz(webhook: string, arb: fc.Arbitrary<Review>, after?: (r: Review, a: AdmissionAnswer) => void): Promise<void> {
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(arb, async (r) => {
        const a = await sendAdmissionReview(target, webhook, r);
        after?.(r, a);
        const problem = judge(r, a);
        if (problem) throw new Error(`${webhook}: ${problem}\nrequest: ${JSON.stringify(r).slice(0, 1500)}`);
      }),
      fuzzParameters(CI_RUNS),
    );
    counts[webhook] = fuzzParameters(CI_RUNS).numRuns;
    process.stdout.write(`fuzz ${webhook}: ${counts[webhook]} cases in ${Date.now() - started} ms\n`);
  }

  const podReview = () => review({ group: "", version: "v1", resource: "pods", kind: "Pod" }, podObject, fc.constantFrom(ns, ns, ns, "", undefined, "kube-system")) as unknown as fc.Arbitrary<Review>;

  it("mutate-pod: no failure, uid echoed, refusals name a field, refused requests hold no address", async () => {
    const pools = new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL);
    const held = async (handed: ReadonlySet<string> = new Set()): Promise<number> => {
      const p = (await pools.get("fuzz-pool")) as SpiderIPPool;
      const state = decodeAllocations(p.status?.allocations, parseCIDR(p.spec.subnet));
      const spare = state.pending.filter((r) => isStockReservation(r.id) && !handed.has(r.id)).reduce((n, r) => n + r.held.length, 0);
      return allocatedCount(state) - spare;
    };
    const before = await held();
    // Every allowed, non-dry-run answer whose patch names an address of the pool holds one per
    // distinct request uid; nothing else may, but for the reservations the replica makes ahead
    // (the stock, `s` ids) and has not handed to any of them.
    const holders = new Set<string>();
    const handed = new Set<string>();
    const hold = (r: Review, a: AdmissionAnswer): void => {
      const res = (a.body as { response?: { allowed?: boolean; patch?: string } }).response;
      const patch = res?.allowed && res.patch ? Buffer.from(res.patch, "base64").toString() : "";
      if (r.request.dryRun || !patch.includes("10.197.")) return;
      holders.add(r.request.uid);
      for (const m of patch.matchAll(/reservation\\?":\\?"([^"\\]+)/g)) if (m[1]) handed.add(m[1]);
    };
    // One unnamed Pod the stock serves, so that reservations made ahead are in play in every run.
    const plain = { generateName: "plain-", namespace: ns, annotations: { "ipam.spidernet.io/ippool": JSON.stringify({ ipv4: ["fuzz-pool"] }) } };
    const first = {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: { uid: randomUUID(), kind: { group: "", version: "v1", kind: "Pod" }, resource: { group: "", version: "v1", resource: "pods" }, namespace: ns, operation: "CREATE", userInfo: { username: "alice" }, object: { apiVersion: "v1", kind: "Pod", metadata: plain, spec: { containers: [{ name: "c", image: "example.invalid/c:1" }] } }, dryRun: false },
    };
    hold(first, await sendAdmissionReview(target, "mutate-pod", first));
    expect(holders.size).toBe(1);
    await fuzz("mutate-pod", podReview(), hold);
    expect(await held(handed)).toBe(before + [...holders].length);
  }, 600_000);

  it("validate-pod", async () => {
    await fuzz("validate-pod", podReview());
  }, 600_000);

  const kinds = [
    ["spiderippool", "spiderippools", "SpiderIPPool", poolSpec],
    ["spidersubnet", "spidersubnets", "SpiderSubnet", poolSpec],
    ["spiderreservedip", "spiderreservedips", "SpiderReservedIP", reservedIPSpec],
    ["spidermultusconfig", "spidermultusconfigs", "SpiderMultusConfig", multusConfigSpec],
  ] as const;
  for (const [path, resource, kind, spec] of kinds) {
    for (const verb of ["mutate", "validate"]) {
      it(`${verb}-${path}`, async () => {
        const arb = review({ group: "spiderpool.spidernet.io", version: "v2beta1", resource, kind }, resourceObject(kind, spec as fc.Arbitrary<unknown>, tc.labels), fc.constantFrom(undefined, ns, ""));
        await fuzz(`${verb}-${path}`, arb);
      }, 600_000);
    }
  }

  it("validate-application", async () => {
    const arb = review({ group: "apps", version: "v1", resource: "deployments", kind: "Deployment" }, fc.oneof({ weight: 6, arbitrary: applicationObject }, { weight: 1, arbitrary: anyJson }), fc.constantFrom(ns, "", undefined));
    await fuzz("validate-application", arb);
  }, 600_000);

  const webhooks = ["mutate-pod", "validate-pod", "validate-application", ...kinds.flatMap(([p]) => [`mutate-${p}`, `validate-${p}`])];

  it("broken envelopes on every webhook: 400 or an answer, never a failure", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...webhooks), brokenEnvelope, async (webhook, body) => {
        const a = await sendAdmissionReview(target, webhook, body);
        if (a.status >= 500) throw new Error(`${webhook}: HTTP ${a.status} ${JSON.stringify(a.body).slice(0, 300)} for ${JSON.stringify(body).slice(0, 500)}`);
      }),
      fuzzParameters(CI_RUNS + 100),
    );
  }, 600_000);

  // Found by the fuzzing in CI (seed 2139003210): validate-application read
  // request.resource.group of a review that has no resource and answered HTTP 500.
  it.each(webhooks)("%s answers a review without a resource with 400 naming the field", async (webhook) => {
    const body = { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid: "6bd045fe-54f9-468e-bfff-ffefb78eaa86", operation: "CREATE", object: { metadata: { name: "x" } }, kind: 0.5, namespace: ns, userInfo: {} } };
    const a = await sendAdmissionReview(target, webhook, body);
    expect(a.status).toBe(400);
    expect((a.body as { message?: string }).message).toContain("request.resource");
  });

  // Found by the fuzzing: a body express' JSON parser refuses (a bare number, not JSON) was
  // answered with express' HTML error page, no message a caller could read.
  it.each(["0.5", "{", '"text"'])("a body that is not a JSON object or list (%s) gets 400 with a JSON message", async (body) => {
    const a = await sendAdmissionReview(target, "mutate-pod", body);
    expect(a.status).toBe(400);
    expect((a.body as { message?: string }).message).toContain("the request body cannot be read");
  });

  afterAll(() => expect(problems).toEqual([]));
});
