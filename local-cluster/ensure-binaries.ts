import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { type BinaryName, REPO_ROOT, cacheDir, cachedPath, locateBinary } from "./binaries.js";
import { tail } from "./processes.js";

/** The components scripts/build-binaries.sh builds, each into its own versioned folder. */
export type BuildComponent = "etcd" | "kubernetes" | "kwok" | "helm" | "whereabouts";

const COMPONENT_OF: Record<BinaryName, BuildComponent> = {
  etcd: "etcd",
  "kube-apiserver": "kubernetes",
  "kube-controller-manager": "kubernetes",
  "kube-scheduler": "kubernetes",
  kubectl: "kubernetes",
  kwok: "kwok",
  helm: "helm",
  whereabouts: "whereabouts",
};

export interface BuildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Builds one component with all its output in `logFile`. */
export type BuildRunner = (component: BuildComponent, logFile: string, env: NodeJS.ProcessEnv) => Promise<BuildOutcome>;

/** The real builder: `bash scripts/build-binaries.sh <component>`, output to the log only. */
export function buildScriptRunner(script = join(REPO_ROOT, "scripts/build-binaries.sh")): BuildRunner {
  return (component, logFile, env) =>
    new Promise((resolve, reject) => {
      const fd = openSync(logFile, "w");
      const child = spawn("bash", [script, component], { stdio: ["ignore", fd, fd], env });
      closeSync(fd);
      child.on("error", reject);
      child.on("close", (code, signal) => resolve({ code, signal }));
    });
}

/** A build that failed: which step, and where its log is. */
export class BinaryBuildError extends Error {
  constructor(
    readonly component: BuildComponent,
    readonly logFile: string,
    message: string,
  ) {
    super(message);
    this.name = "BinaryBuildError";
  }
}

export interface EnsureBinariesOptions {
  env?: NodeJS.ProcessEnv;
  build?: BuildRunner;
  /** Where progress goes, a line at a time (stderr by default: stdout stays the program's). */
  report?: (line: string) => void;
  /** How often a running build says how long it has been going. */
  progressEveryMs?: number;
}

/** "45s", "3m07s". */
export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

/**
 * Makes sure `names` can be found, building the missing ones into the cache through
 * scripts/build-binaries.sh, one component at a time, with a progress line every
 * `progressEveryMs` and the build's output in `<cache>/logs/build-<component>.log`.
 * Returns where each binary is. A failure names the component, the log and its last lines.
 */
export async function ensureBinaries(names: readonly BinaryName[], o: EnsureBinariesOptions = {}): Promise<Map<BinaryName, string>> {
  const env = o.env ?? process.env;
  const report = o.report ?? ((line: string) => console.error(line));
  const missing = names.filter((n) => !locateBinary(n, env));
  if (missing.length > 0) {
    const logDir = join(cacheDir(env), "logs");
    mkdirSync(logDir, { recursive: true });
    const byComponent = new Map<BuildComponent, BinaryName[]>();
    for (const n of missing) byComponent.set(COMPONENT_OF[n], [...(byComponent.get(COMPONENT_OF[n]) ?? []), n]);
    const slow = byComponent.has("kubernetes") ? " (the Kubernetes binaries take 15-25 minutes cold on 2 cores)" : "";
    report(`[binaries] ${missing.join(", ")} not found in $KUBEBUILDER_ASSETS, on PATH or in ${cacheDir(env)}; building once from the Go module proxy${slow}`);
    for (const [component, binaries] of byComponent) {
      await buildComponent(component, binaries, { env, report, logFile: join(logDir, `build-${component}.log`), build: o.build ?? buildScriptRunner(), every: o.progressEveryMs ?? 15_000 });
    }
  }
  return new Map(names.map((n) => [n, locateBinary(n, env) ?? cachedPath(n, env)]));
}

interface Step {
  env: NodeJS.ProcessEnv;
  report: (line: string) => void;
  logFile: string;
  build: BuildRunner;
  every: number;
}

async function buildComponent(component: BuildComponent, binaries: BinaryName[], s: Step): Promise<void> {
  const what = binaries.join(", ") === component ? component : `${component} (${binaries.join(", ")})`;
  s.report(`[binaries] building ${what}; log: ${s.logFile}`);
  const started = Date.now();
  const took = (): string => formatElapsed(Date.now() - started);
  const fail = (what: string): BinaryBuildError =>
    new BinaryBuildError(component, s.logFile, `building ${component} ${what} after ${took()}; log: ${s.logFile}\n${tail(s.logFile)}`);
  // The log's last line says which step of the build it is in (downloading, building X).
  const timer = setInterval(() => s.report(`[binaries]   ${component}: ${took()} so far; ${tail(s.logFile, 1).slice(0, 120)}`), s.every);
  let outcome: BuildOutcome;
  try {
    outcome = await s.build(component, s.logFile, s.env);
  } catch (err) {
    throw fail(`could not start (${err instanceof Error ? err.message : String(err)})`);
  } finally {
    clearInterval(timer);
  }
  if (outcome.code !== 0) throw fail(`failed (${outcome.signal ? `killed by ${outcome.signal}` : `exit ${outcome.code}`})`);
  const absent = binaries.filter((b) => !locateBinary(b, s.env));
  if (absent.length > 0) throw fail(`finished, yet ${absent.map((b) => cachedPath(b, s.env)).join(", ")} is not there`);
  s.report(`[binaries] built ${component} in ${took()}`);
}

/**
 * ensureBinaries for a command-line entry point (npm start, cluster:up, benchmarks): a
 * failed build prints its message, which already says where to look, and exits 1.
 */
export async function ensureBinariesOrExit(names: readonly BinaryName[]): Promise<void> {
  try {
    await ensureBinaries(names);
  } catch (err) {
    if (!(err instanceof BinaryBuildError)) throw err;
    console.error(`[binaries] ${err.message}`);
    process.exit(1);
  }
}
