/**
 * Start-up cost of the CNI plugin per packaging, against `node -e 0`.
 * Run: npx tsx bench/cni-startup.bench.ts [runs]
 * docs/performance.md records its output. Runs are interleaved (one of each variant per round) so
 * load from other processes hits all variants alike; medians and p90 are reported.
 *
 * Besides scripts/bundle.mjs's three host forms (bun, sea, launcher) it builds the options
 * that were measured and not chosen: a Bun executable without bytecode, and Node single
 * executables with a code cache and with a startup snapshot (the bundle's code defined at
 * build time, run by the snapshot's main function).
 */
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const runs = Number(process.argv[2] ?? 60);
const out = mkdtempSync(join(tmpdir(), "cni-bench-"));
/** The tools scripts/bundle.mjs uses, where it looks for them. */
const tool = (env: string | undefined, path: string): string | undefined => [env, join(root, path)].find((p): p is string => p !== undefined && existsSync(p));
const postject = tool(process.env.POSTJECT, "node_modules/.bin/postject");
const bun = tool(process.env.BUN, "node_modules/@oven/bun-linux-x64/bin/bun");

function bundleTo(dir: string, ...args: string[]): boolean {
  const res = spawnSync(process.execPath, [join(root, "scripts/bundle.mjs"), "--only", "cni", "--outdir", dir, ...args], { encoding: "utf8" });
  if (res.status !== 0) console.error(res.stderr);
  return res.status === 0;
}

bundleTo(join(out, "launcher"), "--host=launcher");
const withSea = bundleTo(join(out, "sea"), "--host=sea");
const withBun = bundleTo(join(out, "bun"), "--host=bun");
const cjs = join(out, "launcher/cni/spiderpool.cjs");
const mjs = join(out, "spiderpool.mjs");
await build({ entryPoints: [join(root, "cni/main.ts")], outfile: mjs, bundle: true, platform: "node", target: "node20", format: "esm", minify: true, logLevel: "error" });

/** A single executable from a SEA config (extra keys: useCodeCache, useSnapshot). */
function seaVariant(name: string, main: string, extra: Record<string, unknown>): string | undefined {
  if (!postject) return undefined;
  const blob = join(out, `${name}.blob`);
  writeFileSync(join(out, `${name}.json`), JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, ...extra }));
  const exe = join(out, name);
  copyFileSync(process.execPath, exe);
  const ok = [
    spawnSync(process.execPath, ["--experimental-sea-config", join(out, `${name}.json`)]),
    spawnSync(process.execPath, [postject, exe, "NODE_SEA_BLOB", blob, "--sentinel-fuse", "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2"]),
  ].every((r) => r.status === 0);
  return ok ? exe : undefined;
}
const seaCodeCache = seaVariant("sea-code-cache", cjs, { useCodeCache: true });
const snapshotEntry = join(out, "snapshot-entry.cjs");
const body = readFileSync(cjs, "utf8").replace(/^#!.*\n/, "");
writeFileSync(snapshotEntry, `function spiderpoolMain(){\n${body}\n}\nrequire("v8").startupSnapshot.setDeserializeMainFunction(spiderpoolMain);\n`);
const seaSnapshot = seaVariant("sea-snapshot", snapshotEntry, { useSnapshot: true });
const bunPlain = join(out, "bun-plain");
const withBunPlain = bun !== undefined && spawnSync(bun, ["build", "--compile", "--minify", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig", cjs, "--outfile", bunPlain]).status === 0;

const node = process.execPath;
const unreachable = join(out, "no-agent.sock");
const addConf = JSON.stringify({ cniVersion: "1.0.0", name: "bench", ipam: { type: "spiderpool", ipam_unix_socket_path: unreachable } });
const version = { env: { CNI_COMMAND: "VERSION" }, stdin: "" };
const add = {
  // No K8S_POD_UID: no answer file to look for, so the plugin loads node:net and connects.
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
const host = (form: string): string => join(out, form, "cni/host/spiderpool");
const variants: Variant[] = [
  { name: "node -e 0 (baseline)", cmd: node, args: ["-e", "0"], input: version },
  { name: "node spiderpool.cjs, VERSION", cmd: node, args: [cjs], input: version },
  { name: "node spiderpool.mjs (ESM), VERSION", cmd: node, args: [mjs], input: version },
  { name: "launcher (sh + private node), VERSION", cmd: host("launcher"), args: [], input: version },
  ...(withSea ? [{ name: "Node single executable, VERSION", cmd: host("sea"), args: [], input: version }] : []),
  ...(seaCodeCache ? [{ name: "Node single executable with code cache, VERSION", cmd: seaCodeCache, args: [], input: version }] : []),
  ...(seaSnapshot ? [{ name: "Node single executable with startup snapshot, VERSION", cmd: seaSnapshot, args: [], input: version }] : []),
  ...(withBunPlain ? [{ name: "Bun executable without bytecode, VERSION", cmd: bunPlain, args: [], input: version }] : []),
  ...(withBun ? [{ name: "Bun executable with bytecode (the default), VERSION", cmd: host("bun"), args: [], input: version }] : []),
  { name: "node spiderpool.cjs, ADD, no agent (loads net, connects)", cmd: node, args: [cjs], input: add },
  ...(withSea ? [{ name: "Node single executable, ADD, no agent", cmd: host("sea"), args: [], input: add }] : []),
  ...(withBun ? [{ name: "Bun executable, ADD, no agent", cmd: host("bun"), args: [], input: add }] : []),
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
if (!withSea) console.log("\n(single executables skipped: set POSTJECT to postject's cli.js or npm install -D postject)");
if (!withBun) console.log("\n(Bun executables skipped: npm ci installs @oven/bun-linux-x64, or set BUN)");
console.log(`\n${runs} interleaved runs each, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
rmSync(out, { recursive: true, force: true });
