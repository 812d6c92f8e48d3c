#!/usr/bin/env node
/**
 * Bundles the programs into dist/ with esbuild, and builds the CNI plugin's host artifact.
 *
 *   node scripts/bundle.mjs                     every program whose entry file exists
 *   node scripts/bundle.mjs --only cni          some programs (comma-separated names)
 *   node scripts/bundle.mjs --host              also dist/cni/host/ (see buildHostArtifact)
 *   node scripts/bundle.mjs --host=launcher     force one host form: bun | sea | launcher
 *   node scripts/bundle.mjs --outdir /tmp/x     write somewhere else than dist/
 *
 * A program is one PROGRAMS row; add a row for a new binary. The CNI plugins (`spiderpool`,
 * the IPAM plugin, and `coordinator`, the chained one) run once per Pod NIC on every host,
 * so each is one self-contained CommonJS file (CJS starts ~13 ms faster than ESM on Node 20,
 * a single executable application needs CJS, and Bun's bytecode cache wants it) that may
 * import nothing but node: built-ins; the build fails otherwise.
 * docs/cni.md and docs/performance.md have the figures.
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

/**
 * The CNI plugins a host runs, from the PROGRAMS rows with a `host` name: `program` names
 * the row (a self-contained CommonJS bundle), `binary` the executable the runtime looks up
 * in its CNI bin dir (the network config's `type`).
 */
export const HOST_PLUGINS = PROGRAMS.filter((p) => p.host).map((p) => ({ program: p.name, binary: p.host }));

/** The forms a host artifact can take, best first; "auto" picks the first whose tool is there. */
export const HOST_FORMS = ["bun", "sea", "launcher"];

/** The postject CLI: $POSTJECT, else the repository's devDependency. */
export function findPostject(root = ROOT) {
  return firstExisting([process.env.POSTJECT, join(root, "node_modules/.bin/postject")]);
}

/** Bun's executable: $BUN, else the repository's devDependency (npm @oven/bun-linux-x64). */
export function findBun(root = ROOT) {
  return firstExisting([process.env.BUN, join(root, "node_modules/@oven/bun-linux-x64/bin/bun")]);
}

function firstExisting(candidates) {
  for (const candidate of candidates) {
    if (candidate && existsSync(candidate)) return realpathSync(candidate);
  }
  return undefined;
}

/**
 * The plugins as a host runs them, with no Node.js installed there, in <outdir>/cni/host/.
 * Every file in that folder goes into the CNI bin dir (scripts/install-cni.sh); each
 * HOST_PLUGINS row gets an executable named after its `binary`.
 *
 * - "bun": `bun build --compile --bytecode` of the bundle, one file per plugin (~110 MB).
 *   Starts in about a quarter of `node -e 0`'s time (docs/performance.md, CNI ADD).
 * - "sea": a Node single executable application, one file per plugin (this Node binary with
 *   the bundle injected by postject). Starts as fast as `node -e 0`.
 * - "launcher": each plugin is a /bin/sh launcher that execs a private copy of this Node
 *   binary (`.spiderpool-node`, shared) on the plugin's bundle (`.<binary>.cjs`).
 *
 * "auto" builds the first of HOST_FORMS whose tool is available (Bun, then postject).
 *
 * @param {{ root?: string, outdir?: string, kind?: "auto" | "bun" | "sea" | "launcher" }} [opts]
 * @returns {{ kind: "bun" | "sea" | "launcher", dir: string, files: string[] }}
 */
export function buildHostArtifact(opts = {}) {
  const root = opts.root ?? ROOT;
  const outdir = opts.outdir ?? join(root, "dist");
  const tools = { bun: findBun(root), sea: findPostject(root), launcher: process.execPath };
  let kind = opts.kind ?? "auto";
  if (kind === "auto") kind = HOST_FORMS.find((form) => tools[form]);
  if (!tools[kind]) {
    throw new Error(
      kind === "bun"
        ? "a Bun executable needs Bun: npm ci installs @oven/bun-linux-x64, or set BUN to a bun binary"
        : "a single executable needs postject: npm install -D postject, or set POSTJECT to its cli.js",
    );
  }
  const dir = join(outdir, "cni/host");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files = new Set();
  for (const plugin of HOST_PLUGINS) {
    const program = PROGRAMS.find((p) => p.name === plugin.program);
    const bundled = join(outdir, program.outfile);
    if (!existsSync(bundled)) throw new Error(`${bundled} is missing: bundle the ${plugin.program} program first`);
    for (const file of BUILDERS[kind](bundled, dir, plugin.binary, tools[kind])) files.add(file);
  }
  return { kind, dir, files: [...files].sort() };
}

function run(cmd, args, what) {
  const res = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (res.status !== 0) throw new Error(`${what} failed (${res.status ?? res.signal}):\n${res.stdout}${res.stderr}${res.error ?? ""}`);
}

/** Each builder writes one plugin's files into dir and returns their names. */
const BUILDERS = { bun: buildBun, sea: buildSea, launcher: buildLauncher };

/**
 * Bytecode: the bundle's functions are compiled at build time (~4 ms less per run).
 * No autoloading: a plugin runs in the runtime's working directory, whose .env or
 * bunfig.toml must not change what it does.
 */
function buildBun(bundled, dir, binary, bun) {
  const tmp = join(dir, `.${binary}.bun-build`);
  run(
    bun,
    ["build", "--compile", "--bytecode", "--minify", "--format=cjs", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig", bundled, "--outfile", tmp],
    "bun build --compile",
  );
  renameSync(tmp, join(dir, binary));
  return [binary];
}

function buildSea(bundled, dir, binary, postject) {
  const work = join(dir, `.${binary}.sea-build`);
  mkdirSync(work, { recursive: true });
  const blob = join(work, "plugin.blob");
  const config = join(work, "sea-config.json");
  // No code cache or startup snapshot: neither moved the start-up by more than the noise (docs/performance.md).
  writeFileSync(config, JSON.stringify({ main: bundled, output: blob, disableExperimentalSEAWarning: true }));
  run(process.execPath, ["--experimental-sea-config", config], "node --experimental-sea-config");
  const tmp = join(work, binary);
  copyFileSync(process.execPath, tmp);
  chmodSync(tmp, 0o755);
  run(process.execPath, [postject, tmp, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE], "postject");
  renameSync(tmp, join(dir, binary));
  rmSync(work, { recursive: true, force: true });
  return [binary];
}

/**
 * A launcher drops the Node variables a container runtime's environment might carry:
 * the plugins make no TLS connection (NODE_EXTRA_CA_CERTS alone costs ~90 ms per call)
 * and must not run NODE_OPTIONS' preloads.
 */
export const launcherScript = (binary) => `#!/bin/sh
# ${binary} CNI plugin: runs the bundled plugin on the private Node.js beside it.
unset NODE_OPTIONS NODE_EXTRA_CA_CERTS NODE_PATH NODE_REPL_EXTERNAL_MODULE
case $0 in */*) d=\${0%/*} ;; *) d=$(dirname "$(command -v "$0")") ;; esac
exec "$d/.spiderpool-node" "$d/.${binary}.cjs" "$@"
`;

function buildLauncher(bundled, dir, binary) {
  copyFileSync(process.execPath, join(dir, ".spiderpool-node"));
  chmodSync(join(dir, ".spiderpool-node"), 0o755);
  writeFileSync(join(dir, `.${binary}.cjs`), readFileSync(bundled));
  writeFileSync(join(dir, binary), launcherScript(binary), { mode: 0o755 });
  return [".spiderpool-node", `.${binary}.cjs`, binary];
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
  if (out.host && !["auto", ...HOST_FORMS].includes(out.host)) throw new Error(`--host=${out.host}: expected ${HOST_FORMS.join(", ")}`);
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const plugins = HOST_PLUGINS.map((p) => p.program);
  const only = args.host && args.only ? [...new Set([...args.only, ...plugins])] : args.only;
  for (const b of await bundle({ outdir: args.outdir, only })) {
    console.log(`[bundle] ${b.name}: ${relative(process.cwd(), b.outfile)} (${(b.bytes / 1024).toFixed(1)} KiB)`);
  }
  if (args.host) {
    const host = buildHostArtifact({ outdir: args.outdir, kind: args.host });
    console.log(`[bundle] host artifact (${host.kind}): ${relative(process.cwd(), host.dir)}/{${host.files.join(",")}}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main().catch((err) => {
    console.error(`[bundle] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
