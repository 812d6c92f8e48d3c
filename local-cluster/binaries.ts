import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The Go-built programs the local control plane and the tests run. */
export type BinaryName =
  | "etcd"
  | "kube-apiserver"
  | "kube-controller-manager"
  | "kube-scheduler"
  | "kubectl"
  | "kwok"
  | "helm"
  /** Only bench/cni-add's yardstick (a CNI IPAM plugin); no test needs it. */
  | "whereabouts";

/**
 * The checkout this code runs from: the nearest folder above this file that holds
 * scripts/versions.env (the source runs from local-cluster/, a bundle from dist/local-cluster/).
 */
function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "scripts", "versions.env"))) return dir;
    if (dirname(dir) === dir) return resolve(here, "..");
  }
}

export const REPO_ROOT = repoRoot();

/** scripts/versions.env, the one place the versions (and so the cache keys) are set. */
export function binaryVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(REPO_ROOT, "scripts/versions.env"), "utf8").split("\n")) {
    const m = /^([A-Z0-9_]+)=(\S+)/.exec(line.trim());
    if (m?.[1] && m[2]) out[m[1]] = m[2];
  }
  return out;
}

/** The cache scripts/build-binaries.sh fills (SPIDERPOOL_CACHE moves it). */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SPIDERPOOL_CACHE ?? join(homedir(), ".cache/spiderpool");
}

/** Where scripts/build-binaries.sh puts a binary (keep the two in step). */
export function cachedPath(name: BinaryName, env: NodeJS.ProcessEnv = process.env): string {
  const v = binaryVersions();
  const folder = {
    etcd: `etcd-${v.ETCD_VERSION}`,
    "kube-apiserver": `kubernetes-${v.K8S_VERSION}`,
    "kube-controller-manager": `kubernetes-${v.K8S_VERSION}`,
    "kube-scheduler": `kubernetes-${v.K8S_VERSION}`,
    kubectl: `kubernetes-${v.K8S_VERSION}`,
    kwok: `kwok-${v.KWOK_VERSION}`,
    helm: `helm-${v.HELM_VERSION}`,
    whereabouts: `whereabouts-${v.WHEREABOUTS_VERSION}`,
  }[name];
  return join(cacheDir(env), folder, name);
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where a binary is: $KUBEBUILDER_ASSETS first (the envtest convention), then PATH, then
 * the cache that scripts/build-binaries.sh fills; undefined when it is nowhere.
 */
export function locateBinary(name: BinaryName, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates: string[] = [];
  if (env.KUBEBUILDER_ASSETS) candidates.push(join(env.KUBEBUILDER_ASSETS, name));
  for (const dir of (env.PATH ?? "").split(delimiter).filter(Boolean)) candidates.push(join(dir, name));
  candidates.push(cachedPath(name, env));
  return candidates.find(executable);
}

/** locateBinary, or an error with the command that builds it. */
export function findBinary(name: BinaryName, env: NodeJS.ProcessEnv = process.env): string {
  const found = locateBinary(name, env);
  if (found) return found;
  throw new Error(
    `${name} was not found in $KUBEBUILDER_ASSETS, on PATH or in the cache (${cachedPath(name, env)}). ` +
      `Build it with: bash scripts/build-binaries.sh`,
  );
}

/** The kwok Stage documents shipped in the kwok module (kwok >= 0.8 has none built in). */
export function kwokStagesDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(dirname(cachedPath("kwok", env)), "stages");
}
