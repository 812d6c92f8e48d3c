/**
 * Fuzzing the node side of a running system with fast-check: every route of a real agent's
 * CNI socket (against the test control plane), and the controller's late-allocation route
 * with an agent's real service-account token. Properties: no crash and no unexpected
 * failure (the agent logs none: every answer is a refusal with a CNI code, or code 11 for
 * what may pass), every refusal carries a code and a message, nothing is released or
 * reserved by a refused request. Sizes: test/harness/fuzz.ts; figures: docs/reliability.md.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { parseAgentConfig } from "../../agent/config.js";
import { startAgent, type Agent } from "../../agent/wiring.js";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { allocatedCount } from "../../ipam/allocation/state.js";
import { parseCIDR } from "../../ipam/address/cidr.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { CustomResources } from "../../k8s/resources.js";
import { applyCrds } from "../../local-cluster/kube.js";
import { createPool } from "../../local-cluster/pods.js";
import { anyJson, iface, poolName } from "../fuzz/arbitraries.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { fuzzParameters } from "../harness/fuzz.js";
import { testKubeConfig } from "../harness/kube.js";
import { servingCa } from "../harness/admission-client.js";

const CI_RUNS = 200;
const ROUTES = ["POST /v1/cni/add", "POST /v1/cni/del", "POST /v1/cni/check", "POST /v1/cni/gc", "GET /v1/cni/status", "POST /v1/coordinator/config", "POST /v1/cni/nope", "PUT /v1/cni/add"];

interface Answer {
  status: number;
  text: string;
}

function overSocket(socketPath: string, route: string, body: string): Promise<Answer> {
  const [method = "POST", path = "/"] = route.split(" ");
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath, method, path, headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const text = fc.constantFrom("fuzz", "", "a/b", "..", "x".repeat(300), "Fuzz", "kube-system", "%2F");
const agentRequest = fc.record(
  { containerID: fc.oneof(text, anyJson), netns: text, ifName: iface, network: text, podNamespace: fc.oneof(text, anyJson), podName: fc.oneof(text, anyJson), podUID: fc.oneof(text, anyJson), cniVersion: fc.constantFrom("1.0.0", "0.3.1", "9"), ipam: fc.oneof(fc.record({ default_ipv4_ippool: fc.array(poolName, { maxLength: 2 }), clean_gateway: fc.boolean() }, { requiredKeys: [] }), anyJson), prevResult: anyJson, validAttachments: fc.oneof(fc.array(fc.record({ containerID: text, ifname: iface }), { maxLength: 3 }), anyJson) },
  { requiredKeys: [] },
);
const body = fc.oneof({ weight: 6, arbitrary: agentRequest.map((r) => JSON.stringify(r)) }, { weight: 1, arbitrary: anyJson.map((v) => JSON.stringify(v)) }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) });

describe("fuzzing the node side", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let agent: Agent;
  let dir: string;
  const logged: { level: number; msg: string }[] = [];

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "fuzznode");
    await createPool(kc, tc.labels, "fuzz-node-pool", { subnet: "10.198.0.0/24", ips: ["10.198.0.10-10.198.0.200"] });
    dir = mkdtempSync(join(tmpdir(), "fuzz-agent-"));
    const config = parseAgentConfig({ NODE_NAME: "fuzz-node", SPIDERPOOL_AGENT_SOCKET: join(dir, "a.sock"), SPIDERPOOL_AGENT_HEALTH_PORT: "0", SPIDERPOOL_AGENT_ENDPOINT_WAIT_MS: "200" }, []);
    const log = pino({ level: "info" }, { write: (line: string) => void logged.push(JSON.parse(line) as { level: number; msg: string }) });
    agent = await startAgent(config, { kubeConfig: kc, log });
  });
  afterAll(async () => {
    await agent.close();
    await tc.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const held = async (): Promise<number> => {
    const p = (await new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL).get("fuzz-node-pool")) as SpiderIPPool;
    return allocatedCount(decodeAllocations(p.status?.allocations, parseCIDR(p.spec.subnet)));
  };

  it("the agent socket: every route answers with a CNI code and message, never an unexpected failure", async () => {
    const before = await held();
    const started = Date.now();
    const params = fuzzParameters(CI_RUNS * 2);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), body, async (route, payload) => {
        // The plugin sends no body with a GET (Node's HTTP parser refuses one sent chunked).
        const a = await overSocket(join(dir, "a.sock"), route, route.startsWith("GET") ? "" : payload);
        const where = `${route} ${payload.slice(0, 600)} -> ${a.status} ${a.text.slice(0, 300)}`;
        if (a.status === 200) return;
        if (![404, 409, 413, 503].includes(a.status)) throw new Error(`status ${a.status}: ${where}`);
        const err = JSON.parse(a.text) as { code?: unknown; msg?: unknown };
        if (typeof err.code !== "number" || typeof err.msg !== "string" || err.msg === "") throw new Error(`not an AgentError: ${where}`);
        if (a.status === 503 && err.code !== 11) throw new Error(`503 without code 11: ${where}`);
        const failures = logged.filter((l) => l.level >= 50);
        if (failures.length > 0) throw new Error(`unexpected failure logged (${failures.map((f) => f.msg).join("; ")}): ${where}`);
      }),
      params,
    );
    process.stdout.write(`fuzz agent socket: ${params.numRuns} cases in ${Date.now() - started} ms\n`);
    expect(await held()).toBe(before);
  }, 1_800_000);

  it("late allocation with an agent's token: refusals with a message, no 5xx, nothing reserved for a refused request", async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace: tc.namespace, body: { metadata: { name: "spiderpool-agent" } } }).catch(() => undefined);
    const token = (await core.createNamespacedServiceAccountToken({ namespace: tc.namespace, name: "spiderpool-agent", body: { spec: { audiences: [] } } })).status?.token ?? "";
    expect(token).not.toBe("");
    const ca = await servingCa(kc, tc);
    const post = (payload: string, auth: string): Promise<Answer> =>
      new Promise((resolve, reject) => {
        const req = httpsRequest({ host: "127.0.0.1", port: tc.controller.port, path: "/v1/allocate", method: "POST", ca, headers: { "content-type": "application/json", authorization: auth } }, (res) => {
          let t = "";
          res.on("data", (c: Buffer) => (t += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text: t }));
        });
        req.on("error", reject);
        req.end(payload);
      });
    const lateBody = fc.oneof(
      { weight: 6, arbitrary: fc.record({ namespace: fc.oneof(text, anyJson), name: fc.oneof(text, anyJson), uid: fc.oneof(fc.uuid(), anyJson), node: fc.oneof(fc.constantFrom("fuzz-node", ""), anyJson), interface: fc.oneof(iface, anyJson), ipam: anyJson }, { requiredKeys: [] }).map((r) => JSON.stringify(r)) },
      { weight: 1, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
    );
    const before = await held();
    const started = Date.now();
    const params = fuzzParameters(CI_RUNS);
    await fc.assert(
      fc.asyncProperty(lateBody, fc.constantFrom(`Bearer ${token}`, `Bearer ${token}`, "", "Bearer x"), async (payload, auth) => {
        const a = await post(payload, auth);
        const where = `${payload.slice(0, 600)} (${auth === "" ? "no token" : auth.length > 10 ? "agent token" : "bad token"}) -> ${a.status} ${a.text.slice(0, 300)}`;
        if (a.status >= 500) throw new Error(`HTTP ${a.status}: ${where}`);
        if (a.status === 200) throw new Error(`allocated for a Pod that does not exist: ${where}`);
        const msg = (JSON.parse(a.text) as { message?: unknown }).message;
        if (typeof msg !== "string" || msg === "") throw new Error(`a refusal without a message: ${where}`);
      }),
      params,
    );
    process.stdout.write(`fuzz late allocation: ${params.numRuns} cases in ${Date.now() - started} ms\n`);
    expect(await held()).toBe(before);
  }, 1_800_000);
});
