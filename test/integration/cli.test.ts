import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import yaml from "js-yaml";
import { parseCIDR } from "../../ipam/address/cidr.js";
import { parseIP } from "../../ipam/address/ip.js";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { tokenAt } from "../../ipam/allocation/state.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { commitToPool } from "../../ipam/lifecycle/pool-commit.js";
import { IPSet } from "../../ipam/address/ipset.js";
import { CustomResources } from "../../k8s/resources.js";
import { runCli } from "../../cli/main.js";
import { operatorToken } from "../../local-cluster/tokens.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { assignedOf, createPod, createPool, podSpec } from "../../local-cluster/pods.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { testKubeConfig } from "../harness/kube.js";
import { testClusterState } from "../harness/test-cluster.js";

const POOL = "cli-pool";
const ESC = String.fromCharCode(27);

interface Ran {
  code: number;
  out: string;
  err: string;
}

/**
 * Every `kubectl spiderpool` command against the real apiserver and a real controller (two
 * replicas behind a balancer, found through their MutatingWebhookConfiguration, as on a cluster).
 */
describe("kubectl spiderpool against the real apiserver", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let ns: string;
  let pools: CustomResources<SpiderIPPool>;
  let held: string;
  let token: string | undefined;

  const run = async (args: string[], o: { tty?: boolean; answer?: string } = {}): Promise<Ran> => {
    let out = "";
    let err = "";
    // The admin signs in with a client certificate; the operator routes want a token RBAC allows.
    token ??= await operatorToken(kc, tc.namespace);
    const common = ["--kubeconfig", testClusterState().kubeconfig, "--controller-webhook", tc.names.mutating, "--system-namespace", tc.namespace, "--token", token];
    const code = await runCli({
      argv: [...args, ...common],
      env: {},
      io: { out: (t) => (out += t), err: (t) => (err += t), tty: o.tty ?? false, ...(o.answer !== undefined ? { ask: () => Promise.resolve(o.answer ?? "") } : {}) },
    });
    return { code, out, err };
  };
  const json = async <T>(args: string[]): Promise<T> => JSON.parse((await run([...args, "-o", "json"])).out) as T;
  const settled = async (): Promise<void> => {
    for (const r of tc.replicas) await r.settled();
  };
  /** A bound holding no Pod records: what a leak looks like (a late allocation, no endpoint). */
  const leak = async (address: string): Promise<void> => {
    const pool = (await pools.get(POOL)) as SpiderIPPool;
    const { answers, next } = commitToPool(pool, [{ kind: "allocate", interface: "eth0", address: parseIP(address) }], { reserved: () => IPSet.empty(4), now: Date.now(), coolDownMs: 0 });
    expect(answers[0]?.ok).toBe(true);
    await pools.replaceStatus(next as SpiderIPPool);
  };

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "cli", {}, undefined, 2);
    pools = new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL);
    await createPool(kc, tc.labels, POOL, { subnet: "10.97.0.0/24", ips: ["10.97.0.10-10.97.0.19"], gateway: "10.97.0.1" });
    ns = await tc.createPodNamespace("cli");
    const pod = await createPod(kc, ns, podSpec("holder", { "ipam.spidernet.io/ippool": `{"ipv4":["${POOL}"]}` }));
    held = assignedOf(pod).ips[0]?.ipv4?.split("/")[0] ?? "";
    await settled();
  });

  afterAll(async () => {
    await tc?.stop();
  });

  it("usage: the pool with its count, a bar and a percentage; colours only on a terminal", async () => {
    const rows = (await json<{ items: { name: string; allocated: number; total: number }[] }>(["usage", "--pool", POOL])).items;
    expect(rows).toEqual([expect.objectContaining({ name: POOL, allocated: 1, total: 10 })]);
    const plain = await run(["usage", "--pool", POOL]);
    expect(plain.out).toMatch(new RegExp(`pool\\s+${POOL}\\s+10\\.97\\.0\\.0/24\\s+\\[##-{18}\\]\\s+1\\s+10\\s+10\\.0%`));
    expect(plain.out).not.toContain(ESC);
    expect((await run(["usage", "--pool", POOL], { tty: true })).out).toContain(`${ESC}[32m##`);
    const y = yaml.load((await run(["usage", "--pool", POOL, "-o", "yaml"])).out) as { items: { name: string }[] };
    expect(y.items.map((i) => i.name)).toEqual([POOL]);
  });

  it("why: the rule, the candidates and what a dry run would give, reserving nothing", async () => {
    const before = (await pools.get(POOL))?.status?.allocations;
    const r = await json<{ assigned: { ipv4?: string }[]; families: { rule: string; candidates: string[] }[]; dryRun?: { ipv4?: string; ipv4Pool?: string }[] }>(["why", "holder", "-n", ns]);
    expect(r.assigned[0]?.ipv4).toBe(`${held}/24`);
    expect(r.families).toEqual([expect.objectContaining({ interface: "eth0", family: 4, rule: "ippool", candidates: [POOL] })]);
    expect(r.dryRun?.[0]?.ipv4Pool).toBe(POOL);
    expect(r.dryRun?.[0]?.ipv4).not.toBe(`${held}/24`);
    expect((await pools.get(POOL))?.status?.allocations).toBe(before);
    const text = await run(["why", "holder", "-n", ns]);
    expect(text.out).toContain(`${ns}/holder holds: eth0 ${held}/24 (${POOL})`);
    expect(text.out).toMatch(/eth0\s+IPv4\s+ippool \(annotation ipam\.spidernet\.io\/ippool\)\s+cli-pool/);
    expect((await run(["why", "nobody", "-n", ns])).code).toBe(2);
  });

  it("who: the holder read live, and after its Pod is gone, who held it before", async () => {
    const now = await json<{ pools: { pool: string; state: string; owner: string; pod: string }[] }>(["who", held]);
    expect(now.pools).toEqual([expect.objectContaining({ pool: POOL, state: "held", owner: `${ns}/holder`, pod: "Pending" })]);
    await kc.makeApiClient(CoreV1Api).deleteNamespacedPod({ name: "holder", namespace: ns, gracePeriodSeconds: 0 });
    const after = await waitFor("the released address in the history", async () => {
      const r = await json<{ pools: { state: string; history: { pod: string; reason: string }[] }[] }>(["who", held]);
      return r.pools[0]?.history.length ? r.pools[0] : undefined;
    }, 30_000, 500);
    expect(after.state).toMatch(/^(cooling|free)$/);
    expect(after.history).toEqual([expect.objectContaining({ pod: `${ns}/holder`, reason: "pod-deleted" })]);
    expect((await run(["who", held])).out).toMatch(new RegExp(`${ns}/holder\\s+\\S+\\s+\\S+\\s+\\S+\\s+pod-deleted`));
    expect((await run(["who", "192.0.2.250"])).code).toBe(1);
    expect((await run(["who", "not-an-ip"])).code).toBe(2);
  });

  it("check: a leaked address is reported (exit 1); gc releases it and reports the pool clean", async () => {
    await leak("10.97.0.18");
    const report = await run(["check", "-o", "json"]);
    const mine = (JSON.parse(report.out) as { pools: { pool: string; leaked: string[] }[] }).pools.find((p) => p.pool === POOL);
    expect(mine?.leaked).toEqual(["10.97.0.18"]);
    expect(report.code).toBe(1);
    expect((await run(["check"])).out).toMatch(/cli-pool\s+leaked\s+10\.97\.0\.18/);
    // Two replicas behind the balancer: whichever answers, the scan runs on the leader. An
    // orphan is released by the second scan that finds it (orphans.ts), so the first one
    // still reports it and the second does not.
    const leakedAfterGc = async (): Promise<string[] | undefined> => {
      const gc = await run(["gc", "-o", "json"]);
      expect(gc.err).toBe("");
      return (JSON.parse(gc.out) as { pools: { pool: string; leaked: string[] }[] }).pools.find((p) => p.pool === POOL)?.leaked;
    };
    expect(await leakedAfterGc()).toEqual(["10.97.0.18"]);
    expect(await leakedAfterGc()).toEqual([]);
    expect((await json<{ pools: { state: string }[] }>(["who", "10.97.0.18"])).pools[0]?.state).toMatch(/^(cooling|free)$/);
  });

  it("release: refused while the owner lives, asks unless --yes, then releases by compare-and-swap", async () => {
    const live = await createPod(kc, ns, podSpec("owner", { "ipam.spidernet.io/ippool": `{"ipv4":["${POOL}"]}` }));
    const liveIp = assignedOf(live).ips[0]?.ipv4?.split("/")[0] ?? "";
    // The record may change meanwhile (the binder binds the reservation): what matters is that
    // the address stays held under the token it was given.
    const tokenOf = async (ip: string): Promise<number | undefined> => {
      const pool = (await pools.get(POOL)) as SpiderIPPool;
      return tokenAt(decodeAllocations(pool.status?.allocations, parseCIDR(pool.spec.subnet)).runs, parseIP(ip).value);
    };
    const token = await tokenOf(liveIp);
    expect(token).toBeDefined();
    const refused = await run(["release", liveIp, "--yes"]);
    expect(refused).toMatchObject({ code: 1, err: expect.stringContaining(`belongs to a live Pod: ${ns}/owner`) });
    expect(await tokenOf(liveIp)).toBe(token);

    await leak("10.97.0.19");
    expect(await run(["release", "10.97.0.19"])).toMatchObject({ code: 1, err: expect.stringContaining("pass --yes") });
    expect(await run(["release", "10.97.0.19"], { answer: "n" })).toMatchObject({ code: 1, err: expect.stringContaining("not confirmed") });
    expect((await json<{ pools: { state: string }[] }>(["who", "10.97.0.19"])).pools[0]?.state).toBe("held");
    const released = await run(["release", "10.97.0.19"], { answer: "y" });
    expect(released).toMatchObject({ code: 0, out: expect.stringContaining("released 10.97.0.19 from pool cli-pool") });
    expect((await json<{ pools: { state: string }[] }>(["who", "10.97.0.19"])).pools[0]?.state).toBe("cooling");
    expect((await run(["release", "10.97.0.19", "--yes"])).code).toBe(1);
  });
});
