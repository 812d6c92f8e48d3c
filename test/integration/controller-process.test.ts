import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { get as httpGet } from "node:http";
import { get } from "node:https";
import { join } from "node:path";
import { REPO_ROOT } from "../../local-cluster/binaries.js";
import { freePort } from "../../local-cluster/processes.js";
import { applyCrds, createNamespace, waitFor } from "../../local-cluster/kube.js";
import { testKubeConfig } from "../harness/kube.js";
import { testClusterState } from "../harness/test-cluster.js";
import { admissionClientFiles } from "../../local-cluster/pki.js";

function fetchText(url: string, ca?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    (url.startsWith("https:") ? get : httpGet)(url, ca ? { ca } : {}, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject);
  });
}

/** spiderpool-controller as its own process: configuration, health, metrics, SIGTERM. */
describe("spiderpool-controller process", () => {
  let kc: KubeConfig;
  let ns: string;
  let port: number;
  let metricsPort: number;
  let child: ChildProcess;
  let output = "";
  const run = (env: Record<string, string>): ChildProcess =>
    spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "webhook/main.ts")], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, KUBECONFIG: testClusterState().kubeconfig, ...env },
    });

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    ns = await createNamespace(kc, "ctlproc");
    port = await freePort();
    metricsPort = await freePort();
    const admissionCa = admissionClientFiles(join(testClusterState().dir, "pki")).admissionClientCa;
    // Registering would put cluster-wide webhooks in front of every other test's objects.
    child = run({
      SPIDERPOOL_NAMESPACE: ns,
      SPIDERPOOL_WEBHOOK_HOST: "127.0.0.1",
      SPIDERPOOL_WEBHOOK_PORT: String(port),
      SPIDERPOOL_METRICS_PORT: String(metricsPort),
      SPIDERPOOL_ADMISSION_CLIENT_CA_FILE: admissionCa,
      SPIDERPOOL_TLS_EXTRA_IPS: "127.0.0.1",
      SPIDERPOOL_REGISTER_WEBHOOKS: "false",
    });
    child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  });
  afterAll(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });

  it("refuses a bad configuration with every problem named", () => {
    const bad = spawnSync(process.execPath, ["--import", "tsx", join(REPO_ROOT, "webhook/main.ts"), "--webhook-port=http", "--log-level", "loud"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      env: { PATH: process.env.PATH },
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--webhook-port / SPIDERPOOL_WEBHOOK_PORT is 'http'; use a whole number from 0 to 65535");
    expect(bad.stderr).toContain("--log-level / SPIDERPOOL_LOG_LEVEL is 'loud'; use debug, info, warn or error");
  });

  it("serves /readyz, /healthz and /metrics on the metrics port, and HTTPS with the certificate it stored in its Secret", async () => {
    const ca = await waitFor("the controller's Secret", async () => {
      const s = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: "spiderpool-controller-webhook-tls", namespace: ns });
      return Buffer.from(s.data?.["ca.crt"] ?? "", "base64").toString();
    });
    const probe = (path: string) => fetchText(`http://127.0.0.1:${metricsPort}${path}`);
    await waitFor("readyz", async () => (await probe("/readyz").catch(() => ({ status: 0 }))).status === 200, 60000);
    expect((await probe("/healthz")).body).toBe("ok");
    // The admission port speaks TLS with the stored certificate, and serves no metrics.
    expect((await fetchText(`https://127.0.0.1:${port}/metrics`, ca)).status).toBe(404);
    const metrics = await probe("/metrics");
    expect(metrics.body).toContain("# TYPE spiderpool_webhook_requests_total counter");
    // Prometheus' own linter accepts the exposition.
    const lint = spawnSync("promtool", ["check", "metrics"], { input: metrics.body, encoding: "utf8" });
    expect(`${lint.stdout}${lint.stderr}`.trim()).toBe("");
    expect(lint.status).toBe(0);
  });

  it("shuts down cleanly on SIGTERM", async () => {
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(output).toContain('"msg":"shutting down"');
  });
});
