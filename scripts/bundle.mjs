#!/usr/bin/env node
/**
 * Bundles the programs into dist/ with esbuild, and builds the CNI plugin's host artifact.
 *
 *   node scripts/bundle.mjs                     every program whose entry file exists
 *   node scripts/bundle.mjs --only cni          some programs (comma-separated names)
 *   node scripts/bundle.mjs --host              also dist/cni/host/ (see buildHostArtifact)
 *   node scripts/bundle.mjs --host=launcher     force one host form: sea | launcher
 *   node scripts/bundle.mjs --outdir /tmp/x     write somewhere else than dist/
 *
 * A program is one PROGRAMS row; add a row for a new binary. The CNI plugins (`spiderpool`,
 * the IPAM plugin, and `coordinator`, the chained one) run once per Pod NIC on every host,
 * so each is one self-contained CommonJS file (CJS starts ~13 ms
 * faster than ESM on Node 20, and a single executable application needs CJS) that may
 * import nothing but node: built-ins; the build fails otherwise. docs/cni.md has the figures.
 */
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * selfContained: bundle everything, minify, refuse node_modules inputs, enforce maxBytes.
 * Otherwise packages stay external and resolve from the repository's node_modules.
 */
export const PROGRAMS = [
  {
    name: "cni",
    entry: "cni/main.ts",
    outfile: "cni/spiderpool.cjs",
    format: "cjs",
    // import() of a built-in becomes a lazy require(): a single executable cannot import().
    supported: { "dynamic-import": false },
    selfContained: true,
    maxBytes: 64 * 1024,
    required: true,
    // Its name in the CNI bin dir: a program with `host` gets a host artifact (buildHostArtifact).
    host: "spiderpool",
  },
  {
    name: "coordinator",
    entry: "cni/coordinator/main.ts",
    outfile: "cni/coordinator.cjs",
    format: "cjs",
    supported: { "dynamic-import": false },
    selfContained: true,
    maxBytes: 96 * 1024,
    required: true,
    host: "coordinator",
  },
  { name: "controller", entry: "webhook/main.ts", outfile: "webhook/spiderpool-controller.mjs", format: "esm", selfContained: false },
  { name: "agent", entry: "agent/main.ts", outfile: "agent/spiderpool-agent.mjs", format: "esm", selfContained: false },
];

/** The programs that become host artifacts (CNI plugins), in install order. */
export const HOST_PROGRAMS = PROGRAMS.filter((p) => p.host);

/** Node's SEA fuse (fixed for every Node release that has SEA). */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

/**
 * @param {{ root?: string, outdir?: string, only?: string[] }} [opts]
 * @returns {Promise<{ name: string, outfile: string, bytes: number }[]>}
 */
export async function bundle(opts = {}) {
  const root = opts.root ?? ROOT;
  const outdir = opts.outdir ?? join(root, "dist");
  const built = [];
  for (const program of PROGRAMS) {
    if (opts.only && !opts.only.includes(program.name)) continue;
    const entry = join(root, program.entry);
    if (!existsSync(entry)) {
      if (program.required) throw new Error(`${program.entry} is missing`);
      continue;
    }
    const outfile = join(outdir, program.outfile);
    const result = await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: "node",
      target: "node20",
      format: program.format,
      minify: program.selfContained,
      supported: program.supported,
      legalComments: "none",
      ...(program.selfContained ? {} : { packages: "external", sourcemap: true }),
      banner: { js: "#!/usr/bin/env node" },
      metafile: true,
      logLevel: "warning",
    });
    const bytes = statSync(outfile).size;
    if (program.selfContained) checkSelfContained(program, result.metafile, bytes);
    chmodSync(outfile, 0o755);
    built.push({ name: program.name, outfile, bytes });
  }
  return built;
}

function checkSelfContained(program, metafile, bytes) {
  const packages = Object.keys(metafile.inputs).filter((path) => path.includes("node_modules/"));
  if (packages.length > 0) {
    throw new Error(
      `${program.entry} must import only node: built-ins (each call of the plugin pays for every module it loads), but it pulls in:\n  ${packages.join("\n  ")}`,
    );
  }
  if (bytes > program.maxBytes) {
    throw new Error(`${program.outfile} is ${bytes} bytes, over its budget of ${program.maxBytes}: something heavy was imported`);
  }
}

/** The postject CLI: $POSTJECT, else the repository's devDependency. */
export function findPostject(root = ROOT) {
  const candidates = [process.env.POSTJECT, join(root, "node_modules/.bin/postject")];
  for (const candidate of candidates) {
    if (candidate && existsSync(candidate)) return realpathSync(candidate);
  }
  return undefined;
}

/**
 * The plugins as a host runs them, with no Node.js installed there, in <outdir>/cni/host/.
 * Every file in that folder goes into the CNI bin dir (scripts/install-cni.sh).
 *
 * - "sea": a Node single executable application per plugin, one file each (`spiderpool`,
 *   `coordinator`: this Node binary with the bundle injected by postject). Starts as fast
 *   as `node -e 0`.
 * - "launcher": each plugin is a /bin/sh launcher that execs one private copy of this Node
 *   binary (`.spiderpool-node`) on its bundle (`.spiderpool.cjs`, `.coordinator.cjs`).
 *   Needs no postject.
 *
 * "auto" builds "sea" when postject is available, else "launcher".
 *
 * @param {{ root?: string, outdir?: string, kind?: "auto" | "sea" | "launcher" }} [opts]
 * @returns {{ kind: "sea" | "launcher", dir: string, files: string[] }}
 */
export function buildHostArtifact(opts = {}) {
  const root = opts.root ?? ROOT;
  const outdir = opts.outdir ?? join(root, "dist");
  const bundles = HOST_PROGRAMS.map((p) => ({ name: p.host, bundled: join(outdir, p.outfile) }));
  for (const b of bundles) if (!existsSync(b.bundled)) throw new Error(`${b.bundled} is missing: bundle the ${b.name} program first`);
  const postject = findPostject(root);
  let kind = opts.kind ?? "auto";
  if (kind === "auto") kind = postject ? "sea" : "launcher";
  const dir = join(outdir, "cni/host");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  if (kind === "sea") {
    if (!postject) throw new Error("a single executable needs postject: npm install -D postject, or set POSTJECT to its cli.js");
    for (const b of bundles) buildSea(b.bundled, dir, postject, b.name);
    return { kind, dir, files: bundles.map((b) => b.name) };
  }
  copyFileSync(process.execPath, join(dir, ".spiderpool-node"));
  chmodSync(join(dir, ".spiderpool-node"), 0o755);
  for (const b of bundles) buildLauncher(b.bundled, dir, b.name);
  return { kind, dir, files: [".spiderpool-node", ...bundles.flatMap((b) => [`.${b.name}.cjs`, b.name])] };
}

function run(cmd, args, what) {
  const res = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (res.status !== 0) throw new Error(`${what} failed (${res.status ?? res.signal}):\n${res.stdout}${res.stderr}${res.error ?? ""}`);
}

function buildSea(bundled, dir, postject, name) {
  const work = join(dir, `.sea-build-${name}`);
  mkdirSync(work, { recursive: true });
  const blob = join(work, `${name}.blob`);
  const config = join(work, "sea-config.json");
  // No code cache: it saved under 1 ms on a 20 KB bundle and ties the blob to this exact binary twice over.
  writeFileSync(config, JSON.stringify({ main: bundled, output: blob, disableExperimentalSEAWarning: true }));
  run(process.execPath, ["--experimental-sea-config", config], "node --experimental-sea-config");
  const tmp = join(work, name);
  copyFileSync(process.execPath, tmp);
  chmodSync(tmp, 0o755);
  run(process.execPath, [postject, tmp, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE], "postject");
  renameSync(tmp, join(dir, name));
  rmSync(work, { recursive: true, force: true });
}

/**
 * A launcher drops the Node variables a container runtime's environment might carry:
 * the plugins make no TLS connection (NODE_EXTRA_CA_CERTS alone costs ~90 ms per call)
 * and must not run NODE_OPTIONS' preloads.
 */
export function launcherFor(name) {
  return `#!/bin/sh
# ${name} CNI plugin: runs the bundled plugin on the private Node.js beside it.
unset NODE_OPTIONS NODE_EXTRA_CA_CERTS NODE_PATH NODE_REPL_EXTERNAL_MODULE
case $0 in */*) d=\${0%/*} ;; *) d=$(dirname "$(command -v "$0")") ;; esac
exec "$d/.spiderpool-node" "$d/.${name}.cjs" "$@"
`;
}

export const LAUNCHER = launcherFor("spiderpool");

function buildLauncher(bundled, dir, name) {
  writeFileSync(join(dir, `.${name}.cjs`), readFileSync(bundled));
  writeFileSync(join(dir, name), launcherFor(name), { mode: 0o755 });
}

function parseArgs(argv) {
  const out = { only: undefined, outdir: undefined, host: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.split("=", 2);
    const value = () => inline ?? argv[++i];
    if (flag === "--only") out.only = value().split(",");
    else if (flag === "--outdir") out.outdir = resolve(value());
    else if (flag === "--host") out.host = inline ?? "auto";
    else throw new Error(`unknown argument ${arg}; see the header of scripts/bundle.mjs`);
  }
  if (out.host && !["auto", "sea", "launcher"].includes(out.host)) throw new Error(`--host=${out.host}: expected sea or launcher`);
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  // A host artifact holds every plugin: bundle them all.
  const only = args.host && args.only ? [...new Set([...args.only, ...HOST_PROGRAMS.map((p) => p.name)])] : args.only;
  for (const b of await bundle({ outdir: args.outdir, only })) {
    console.log(`[bundle] ${b.name}: ${relative(process.cwd(), b.outfile)} (${(b.bytes / 1024).toFixed(1)} KiB)`);
  }
  if (args.host) {
    const host = buildHostArtifact({ outdir: args.outdir, kind: args.host });
    console.log(`[bundle] CNI host artifact (${host.kind}): ${relative(process.cwd(), host.dir)}/{${host.files.join(",")}}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main().catch((err) => {
    console.error(`[bundle] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
