/**
 * What the coordinator costs per Pod NIC, against `node -e 0`: VERSION (start-up), ADD of
 * a dual-stack first NIC (veth pair, routes, rules, neighbours, sysctls) and its DEL.
 * Run (root, needs `ip netns`): npx tsx bench/coordinator.bench.ts [rounds]
 *
 * It makes two namespaces of its own (a node with addresses, a Pod whose eth0 is a veth to
 * it, standing in for macvlan's), runs every variant once per round inside the node's
 * namespace (so `ip netns exec` costs all of them alike), reports medians, and removes
 * both namespaces at the end. docs/coordinator.md records its output.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const rounds = Number(process.argv[2] ?? 30);
const out = mkdtempSync(join(tmpdir(), "coordinator-bench-"));
const id = process.pid.toString(36).slice(-4);
const nodeNs = `spcb${id}node`;
const podNs = `spcb${id}pod`;

function sh(cmd: string, ...args: string[]): string {
  const res = spawnSync(cmd, args, { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${res.stderr}`);
  return res.stdout;
}

function setUp(): void {
  for (const ns of [nodeNs, podNs]) {
    sh("ip", "netns", "add", ns);
    sh("ip", "-n", ns, "link", "set", "lo", "up");
  }
  sh("ip", "-n", nodeNs, "addr", "add", "10.92.255.1/32", "dev", "lo");
  sh("ip", "-n", nodeNs, "-6", "addr", "add", "fd92:ff::1/128", "dev", "lo");
  sh("ip", "-n", nodeNs, "link", "add", "uplink", "type", "veth", "peer", "name", "eth0", "netns", podNs);
  sh("ip", "-n", nodeNs, "link", "set", "uplink", "up");
  sh("ip", "-n", podNs, "link", "set", "eth0", "up");
  sh("ip", "-n", podNs, "addr", "add", "10.92.1.5/24", "dev", "eth0");
  sh("ip", "-n", podNs, "-6", "addr", "add", "fd92:1::5/64", "dev", "eth0", "nodad");
  sh("ip", "-n", podNs, "route", "add", "default", "via", "10.92.1.1", "dev", "eth0");
  sh("ip", "-n", podNs, "-6", "route", "add", "default", "via", "fd92:1::1", "dev", "eth0");
}

const bundled = spawnSync(process.execPath, [join(root, "scripts/bundle.mjs"), "--only", "coordinator", "--outdir", out], { encoding: "utf8" });
if (bundled.status !== 0) throw new Error(bundled.stderr);
const plugin = join(out, "cni/coordinator.cjs");
const prevResult = {
  cniVersion: "1.0.0",
  interfaces: [{ name: "eth0", sandbox: `/var/run/netns/${podNs}` }],
  ips: [
    { interface: 0, address: "10.92.1.5/24", gateway: "10.92.1.1" },
    { interface: 0, address: "fd92:1::5/64", gateway: "fd92:1::1" },
  ],
};
const conf = JSON.stringify({ cniVersion: "1.0.0", name: "bench", type: "coordinator", serviceCIDR: ["10.92.128.0/24", "fd92:96::/112"], agentSocketPath: "", prevResult });
const cniEnv = (command: string) => ({ PATH: "/usr/sbin:/usr/bin:/sbin:/bin", CNI_COMMAND: command, CNI_CONTAINERID: "bench", CNI_NETNS: `/var/run/netns/${podNs}`, CNI_IFNAME: "eth0", CNI_ARGS: "IgnoreUnknown=1" });

interface Variant {
  name: string;
  args: string[];
  env: Record<string, string>;
  stdin: string;
}
const variants: Variant[] = [
  { name: "node -e 0 (baseline)", args: ["-e", "0"], env: { PATH: "/usr/bin:/bin" }, stdin: "" },
  { name: "coordinator VERSION", args: [plugin], env: { CNI_COMMAND: "VERSION" }, stdin: "" },
  { name: "coordinator ADD, dual-stack first NIC", args: [plugin], env: cniEnv("ADD"), stdin: conf },
  { name: "coordinator DEL of it", args: [plugin], env: cniEnv("DEL"), stdin: conf },
];

function time(v: Variant): number {
  const start = process.hrtime.bigint();
  const res = spawnSync("ip", ["netns", "exec", nodeNs, process.execPath, ...v.args], { env: v.env, input: v.stdin, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (res.status !== 0) throw new Error(`${v.name} failed: ${res.stdout}${res.stderr}`);
  return ms;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

try {
  setUp();
  const samples = variants.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) variants.forEach((v, i) => samples[i]?.push(time(v)));
  const base = median(samples[0] ?? []);
  console.log(`| variant (median of ${rounds}, inside ip netns exec) | ms | vs node -e 0 |`);
  console.log("| --- | --- | --- |");
  variants.forEach((v, i) => {
    const m = median(samples[i] ?? []);
    console.log(`| ${v.name} | ${m.toFixed(1)} | ${i === 0 ? "—" : `${(m / base).toFixed(2)}×`} |`);
  });
} finally {
  for (const ns of [nodeNs, podNs]) spawnSync("ip", ["netns", "del", ns]);
  rmSync(out, { recursive: true, force: true });
}
