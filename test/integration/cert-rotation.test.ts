import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { AdmissionregistrationV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { connect } from "node:tls";
import { setTimeout as sleep } from "node:timers/promises";
import { IPPOOL_PLURAL } from "../../ipam/kinds/ippool.js";
import { API_VERSION, GROUP, VERSION } from "../../ipam/kinds/meta.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { testKubeConfig } from "../harness/kube.js";

/** The certificate the admission server presents right now (its fingerprint). */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.end();
    });
    s.on("error", reject);
  });
}

describe("webhook certificate rotation", () => {
  let kc: KubeConfig;
  let tc: TestController;
  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "certrot", { SPIDERPOOL_CA_OVERLAP_MS: "5000" });
  });
  afterAll(() => tc.stop());

  it("rotates the serving certificate and then the CA while admission keeps answering", async () => {
    const api = kc.makeApiClient(CustomObjectsApi);
    let ok = 0;
    const failures: string[] = [];
    let running = true;
    // Four clients creating pools in server-side dry run: each request goes through the
    // mutating and the validating webhook, and nothing is stored.
    const client = async (id: number): Promise<void> => {
      // Stops early when the control plane is gone rather than spinning on refusals.
      for (let i = 0; running && failures.length < 50; i++) {
        try {
          const out = (await api.createClusterCustomObject({
            group: GROUP,
            version: VERSION,
            plural: IPPOOL_PLURAL,
            dryRun: "All",
            body: { apiVersion: API_VERSION, kind: "SpiderIPPool", metadata: { name: `rot-${id}-${i}`, labels: tc.labels }, spec: { subnet: "198.51.100.0/24", ips: ["198.51.100.9", "198.51.100.8"] } },
          })) as { spec: { ipVersion?: number; ips?: string[] } };
          // Defaulted by the mutating webhook: proof the webhook answered.
          if (out.spec.ipVersion === 4 && out.spec.ips?.[0] === "198.51.100.8-198.51.100.9") ok++;
          else failures.push(`not mutated: ${JSON.stringify(out.spec)}`);
        } catch (err) {
          failures.push(err instanceof Error ? err.message.slice(0, 300) : String(err));
        }
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(client));

    const port = tc.controller.port;
    const first = await servedFingerprint(port);
    await sleep(1000);

    await tc.controller.refreshCertificates("serving");
    const second = await servedFingerprint(port);
    expect(second).not.toBe(first);
    await sleep(1500);

    await tc.controller.refreshCertificates("ca");
    // Both CAs are published; the old serving certificate is still presented.
    const cfg = await kc.makeApiClient(AdmissionregistrationV1Api).readMutatingWebhookConfiguration({ name: tc.names.mutating });
    const bundle = Buffer.from(cfg.webhooks?.[0]?.clientConfig.caBundle ?? "", "base64").toString();
    expect(bundle.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(await servedFingerprint(port)).toBe(second);

    // After the overlap, the serving certificate switches to one from the new CA.
    await sleep(5200);
    await tc.controller.refreshCertificates();
    const third = await waitFor("serving certificate from the new CA", async () => {
      const fp = await servedFingerprint(port);
      return fp !== second ? fp : undefined;
    });
    expect(third).not.toBe(first);
    await sleep(2000);

    running = false;
    await load;
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(20);
    const rotations = await tc.controller.metrics.registry.getSingleMetricAsString("spiderpool_webhook_certificate_rotations_total");
    expect(rotations).toMatch(/what="serving"} 1/);
    expect(rotations).toMatch(/what="ca"} 1/);
    expect(rotations).toMatch(/what="serving-after-ca"} 1/);
  });
});
