/**
 * Start-up cost of the CNI plugin per packaging, against `node -e 0`.
 * Run: npx tsx bench/cni-startup.bench.ts [runs]   (POSTJECT=<cli.js> adds the single executable)
 * docs/cni.md records its output. Runs are interleaved (one of each variant per round) so
 * load from other processes hits all variants alike; medians are reported.
 */
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const runs = Number(process.argv[2] ?? 60);
const out = mkdtempSync(join(tmpdir(), "cni-bench-"));

function bundleTo(dir: string, ...args: string[]): boolean {
  const res = spawnSync(process.execPath, [join(root, "scripts/bundle.mjs"), "--only", "cni", "--outdir", dir, ...args], { encoding: "utf8" });
  if (res.status !== 0) console.error(res.stderr);
  return res.status === 0;
}

bundleTo(join(out, "launcher"), "--host=launcher");
const withSea = bundleTo(join(out, "sea"), "--host=sea");
const cjs = join(out, "launcher/cni/spiderpool.cjs");
const mjs = join(out, "spiderpool.mjs");
await build({ entryPoints: [join(root, "cni/main.ts")], outfile: mjs, bundle: true, platform: "node", target: "node20", format: "esm", minify: true, logLevel: "error" });

const node = process.execPath;
const unreachable = join(out, "no-agent.sock");
const addConf = JSON.stringify({ cniVersion: "1.0.0", name: "bench", ipam: { type: "spiderpool", ipam_unix_socket_path: unreachable } });
const version = { env: { CNI_COMMAND: "VERSION" }, stdin: "" };
const add = {
  env: { CNI_COMMAND: "ADD", CNI_CONTAINERID: "c1", CNI_NETNS: "/proc/self/ns/net", CNI_IFNAME: "eth0", CNI_ARGS: "K8S_POD_NAMESPACE=a;K8S_POD_NAME=b" },
  stdin: addConf,
};

interface Variant {
  name: string;
  cmd: string;
  args: string[];
  input: { env: Record<string, string>; stdin: string };
  extraEnv?: Record<string, string>;
}
const variants: Variant[] = [
  { name: "node -e 0 (baseline)", cmd: node, args: ["-e", "0"], input: version },
  { name: "node spiderpool.cjs, VERSION", cmd: node, args: [cjs], input: version },
  { name: "node spiderpool.mjs (ESM), VERSION", cmd: node, args: [mjs], input: version },
  { name: "launcher (sh + private node), VERSION", cmd: join(out, "launcher/cni/host/spiderpool"), args: [], input: version },
  ...(withSea ? [{ name: "single executable, VERSION", cmd: join(out, "sea/cni/host/spiderpool"), args: [], input: version }] : []),
  { name: "node spiderpool.cjs, ADD, no agent (loads http, connects)", cmd: node, args: [cjs], input: add },
  { name: "launcher, ADD, no agent", cmd: join(out, "launcher/cni/host/spiderpool"), args: [], input: add },
  ...(withSea ? [{ name: "single executable, ADD, no agent", cmd: join(out, "sea/cni/host/spiderpool"), args: [], input: add }] : []),
];
if (existsSync("/etc/ssl/certs/ca-certificates.crt")) {
  variants.push({
    name: "node -e 0 with NODE_EXTRA_CA_CERTS set",
    cmd: node,
    args: ["-e", "0"],
    input: version,
    extraEnv: { NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/ca-certificates.crt" },
  });
}

const times = variants.map(() => [] as number[]);
for (let round = -3; round < runs; round++) {
  variants.forEach((v, i) => {
    const t0 = process.hrtime.bigint();
    spawnSync(v.cmd, v.args, { env: { PATH: "/usr/bin:/bin", ...v.input.env, ...v.extraEnv }, input: v.input.stdin, stdio: ["pipe", "ignore", "ignore"] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (round >= 0) times[i]?.push(ms);
  });
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
const base = pct(times[0] ?? [], 0.5);
console.log(`| variant | median | p90 | vs node -e 0 |`);
console.log(`| --- | --- | --- | --- |`);
variants.forEach((v, i) => {
  const xs = times[i] ?? [];
  const med = pct(xs, 0.5);
  console.log(`| ${v.name} | ${med.toFixed(1)} ms | ${pct(xs, 0.9).toFixed(1)} ms | ${med - base >= 0 ? "+" : ""}${(med - base).toFixed(1)} ms |`);
});
if (!withSea) console.log("\n(single executable skipped: set POSTJECT to postject's cli.js or npm install -D postject)");
console.log(`\n${runs} interleaved runs each, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
rmSync(out, { recursive: true, force: true });
