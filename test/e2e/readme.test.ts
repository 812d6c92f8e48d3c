import { afterAll, describe, expect, it } from "@jest/globals";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseCIDR } from "../../ipam/address/cidr.js";
import { parseIP } from "../../ipam/address/ip.js";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { holders } from "../../ipam/allocation/state.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { CustomResources } from "../../k8s/resources.js";
import { REPO_ROOT } from "../../local-cluster/binaries.js";
import { clusterDir } from "../../local-cluster/cluster.js";
import type { DemoRow } from "../../local-cluster/demo.js";
import { waitFor } from "../../local-cluster/kube.js";
import { addressesIn } from "../../local-cluster/netns.js";
import { leftovers, stopLocalSystem } from "../../local-cluster/system-stop.js";

const run = promisify(execFile);

/** A row of the printed table: the shape the demo prints (local-cluster/demo.ts). */
type Row = DemoRow;

/** The Pod table `npm start` prints: from its header to the first blank line. */
function parseTable(stdout: string): Row[] {
  const lines = stdout.split("\n");
  const start = lines.findIndex((l) => l.startsWith("POD ") && l.includes("IN NETNS"));
  expect(start).toBeGreaterThanOrEqual(0);
  const rows: Row[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.trim()) break;
    const [pod = "", node = "", nic = "", addresses = "", pools = "", inNetns = "", netns = ""] = line.split(/\s{2,}/);
    rows.push({ pod, node, nic, addresses: addresses.split(",").sort(), pools: pools.split(","), inNetns: inNetns.split(",").sort(), netns });
  }
  return rows;
}

/** The command of README's "Run it" block: `npm ci && npm start`. */
function readmeRunCommand(): string {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const block = /Run it[\s\S]*?```sh\n([^\n]+)\n```/.exec(readme);
  return block?.[1] ?? "";
}

/**
 * README's run command on a clean clone of this commit (node_modules linked, the binaries
 * cache shared), with --detach: the table's addresses are checked against the pool records
 * and against the network namespaces, the kubectl plugin answers, a Pod deleted gracefully
 * goes with its namespace, and `npm run stop` leaves no process, namespace, link or directory.
 */
describe("npm start on a clean clone", () => {
  const name = `readme-${process.pid}`;
  const clone = mkdtempSync(join(tmpdir(), "spiderpool-clone-"));
  const env = { ...process.env, SPIDERPOOL_CLUSTER_NAME: name, NO_COLOR: "1" };

  afterAll(async () => {
    await stopLocalSystem(name).catch(() => undefined);
    rmSync(clone, { recursive: true, force: true });
  });

  it("brings up the whole path, shows each Pod's addresses where they are, and stops leaving nothing", async () => {
    const head = (await run("git", ["rev-parse", "HEAD"], { cwd: REPO_ROOT })).stdout.trim();
    await run("git", ["clone", "--quiet", "--no-checkout", REPO_ROOT, clone]);
    await run("git", ["checkout", "--quiet", head], { cwd: clone });
    symlinkSync(join(REPO_ROOT, "node_modules"), join(clone, "node_modules"));
    // `npm ci` is what node_modules stands in for; the rest runs as written, with --detach.
    expect(readmeRunCommand()).toBe("npm ci && npm start");
    const { stdout } = await run("npm", ["start", "--", "--detach"], { cwd: clone, env, maxBuffer: 16 << 20, timeout: 240_000 });

    const rows = parseTable(stdout);
    const pods = [...new Set(rows.map((r) => r.pod.replace(/^web-.*/, "web")))].sort();
    expect(pods).toEqual(["db-0", "db-1", "dual", "pinned", "two-nics", "web"]);
    expect(rows.filter((r) => r.pod.startsWith("web-"))).toHaveLength(2);
    expect(rows.filter((r) => r.pod === "two-nics").map((r) => r.nic)).toEqual(["eth0", "net1"]);
    expect(rows.find((r) => r.pod === "pinned")?.addresses).toContain("172.18.40.77/24");
    expect(rows.find((r) => r.pod === "dual")?.pools).toEqual(["quick-start-v4", "quick-start-v6"]);
    for (const r of rows.filter((x) => x.pod.startsWith("web-"))) expect(r.pools.every((p) => p.startsWith("auto"))).toBe(true);

    // What the namespaces hold: as printed, and as read again here.
    for (const r of rows) {
      expect({ pod: r.pod, nic: r.nic, node: r.node, inNetns: r.inNetns }).toEqual({ pod: r.pod, nic: r.nic, node: expect.stringMatching(/^node-[ab]$/), inNetns: r.addresses });
      expect((await addressesIn(r.netns, r.nic)).sort()).toEqual(r.addresses);
    }

    // What the pools hold: every printed address under a token, and nothing else.
    const kc = new KubeConfig();
    kc.loadFromFile(join(clusterDir(name), "admin.kubeconfig"));
    const records = new Map<string, Set<bigint>>();
    for (const pool of (await new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL).list()).items) {
      records.set(pool.metadata.name ?? "", new Set([...holders(decodeAllocations(pool.status?.allocations, parseCIDR(pool.spec.subnet)))].map((h) => h.address)));
    }
    const printed = new Map<string, bigint[]>();
    for (const r of rows) r.addresses.forEach((a, i) => printed.set(r.pools[i] ?? "", [...(printed.get(r.pools[i] ?? "") ?? []), parseIP(a.split("/")[0] ?? "").value]));
    for (const [pool, addresses] of printed) expect({ pool, held: [...(records.get(pool) ?? [])].sort() }).toEqual({ pool, held: addresses.sort() });

    // The usage table follows, from the same records.
    expect(stdout).toMatch(/pool\s+quick-start-v4\s+172\.18\.40\.0\/24\s+\[[#-]+\]\s+5\s+161\s+3\.1%/);
    expect(stdout).toContain(`export KUBECONFIG=${join(clusterDir(name), "admin.kubeconfig")}`);

    // The kubectl plugin of the clone, as the printed instructions say.
    const plugin = (args: string[]): Promise<{ stdout: string }> => run(join(clone, "bin", "kubectl-spiderpool"), args, { env: { ...env, KUBECONFIG: join(clusterDir(name), "admin.kubeconfig") } });
    expect((await plugin(["who", "172.18.40.77"])).stdout).toMatch(/172\.18\.40\.77 in pool quick-start-v4: held \(token \d+\) by demo\/pinned .* on node-[ab], pod Running/);

    // A graceful delete: the node runs CNI DEL, removes the namespace and finishes the delete.
    const pinned = rows.find((r) => r.pod === "pinned") as Row;
    const core = kc.makeApiClient(CoreV1Api);
    await core.deleteNamespacedPod({ name: "pinned", namespace: "demo" });
    await waitFor("pinned gone", async () => !(await core.listNamespacedPod({ namespace: "demo" })).items.some((p) => p.metadata?.name === "pinned"), 60_000, 500);
    const { stdout: netnsList } = await run("ip", ["netns", "list"]);
    expect(netnsList).not.toContain(pinned.netns);

    await run("npm", ["run", "stop"], { cwd: clone, env, timeout: 120_000 });
    expect(await leftovers(name)).toEqual({ processes: [], netns: [], links: [] });
  }, 330_000);
});
