import { afterEach, beforeEach, describe, expect, it, jest } from "@jest/globals";
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { cachedPath, type BinaryName } from "../../local-cluster/binaries.js";
import { BinaryBuildError, ensureBinaries, formatElapsed, type BuildOutcome, type BuildRunner } from "../../local-cluster/ensure-binaries.js";

/**
 * The missing -> build with progress -> found path, with a stand-in for
 * scripts/build-binaries.sh (the real spawn is covered in test/build/).
 */
function fakeBinary(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, "#!/bin/sh\n");
  chmodSync(path, 0o755);
}

interface Call {
  component: string;
  logFile: string;
  finish(outcome?: Partial<BuildOutcome>): void;
}

/** A build the test finishes by hand; what it "builds" appears when it finishes with code 0. */
function controlledBuild(env: NodeJS.ProcessEnv, produces: Record<string, BinaryName[]>): { build: BuildRunner; calls: Call[] } {
  const calls: Call[] = [];
  const build: BuildRunner = (component, logFile) =>
    new Promise((resolve) => {
      writeFileSync(logFile, `[build-binaries] building ${component}\n`);
      calls.push({
        component,
        logFile,
        finish(outcome = {}) {
          const done = { code: 0, signal: null, ...outcome };
          if (done.code === 0) for (const b of produces[component] ?? []) fakeBinary(cachedPath(b, env));
          resolve(done);
        },
      });
    });
  return { build, calls };
}

describe("ensureBinaries", () => {
  let root: string;
  let env: NodeJS.ProcessEnv;
  let lines: string[];
  const report = (line: string): void => void lines.push(line);
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "ensure-binaries-"));
    env = { PATH: join(root, "empty"), SPIDERPOOL_CACHE: join(root, "cache") };
    lines = [];
    jest.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    jest.useRealTimers();
    rmSync(root, { recursive: true, force: true });
  });

  it("builds nothing when every binary is there", async () => {
    fakeBinary(cachedPath("etcd", env));
    const { build, calls } = controlledBuild(env, {});
    const found = await ensureBinaries(["etcd"], { env, build, report });
    expect(found.get("etcd")).toBe(cachedPath("etcd", env));
    expect(calls).toEqual([]);
    expect(lines).toEqual([]);
  });

  it("builds what is missing, one component at a time, reporting progress, then finds it", async () => {
    fakeBinary(cachedPath("etcd", env));
    const { build, calls } = controlledBuild(env, { kubernetes: ["kube-apiserver", "kubectl"], kwok: ["kwok"] });
    const done = ensureBinaries(["etcd", "kube-apiserver", "kubectl", "kwok"], { env, build, report });
    await jest.advanceTimersByTimeAsync(0);
    // One build for both Kubernetes binaries; kwok waits for it.
    expect(calls.map((c) => c.component)).toEqual(["kubernetes"]);
    const log = join(env.SPIDERPOOL_CACHE ?? "", "logs", "build-kubernetes.log");
    expect(calls[0]?.logFile).toBe(log);
    expect(lines[0]).toMatch(/^\[binaries\] kube-apiserver, kubectl, kwok not found .* building once from the Go module proxy \(the Kubernetes binaries take/);
    expect(lines[1]).toBe(`[binaries] building kubernetes (kube-apiserver, kubectl); log: ${log}`);

    appendFileSync(log, "[build-binaries] building kube-apiserver v1.35.4\n");
    await jest.advanceTimersByTimeAsync(31_000);
    expect(lines.slice(2)).toEqual([
      "[binaries]   kubernetes: 15s so far; [build-binaries] building kube-apiserver v1.35.4",
      "[binaries]   kubernetes: 30s so far; [build-binaries] building kube-apiserver v1.35.4",
    ]);

    calls[0]?.finish();
    await jest.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => c.component)).toEqual(["kubernetes", "kwok"]);
    calls[1]?.finish();
    const found = await done;
    expect([...found.values()]).toEqual(["etcd", "kube-apiserver", "kubectl", "kwok"].map((b) => cachedPath(b as BinaryName, env)));
    expect(lines).toContain("[binaries] built kubernetes in 31s");
    // No progress lines once the builds are over.
    const count = lines.length;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(lines).toHaveLength(count);
  });

  it("names the failed step, its log and the log's last lines", async () => {
    const { build, calls } = controlledBuild(env, {});
    const done = ensureBinaries(["helm"], { env, build, report });
    await jest.advanceTimersByTimeAsync(0);
    appendFileSync(calls[0]?.logFile ?? "", "go: helm.sh/helm/v3@v3.19.0: no space left on device\n");
    await jest.advanceTimersByTimeAsync(2_000);
    calls[0]?.finish({ code: 1 });
    const err = await done.catch((e: unknown) => e);
    expect(lines[0]).toBe(`[binaries] helm not found in $KUBEBUILDER_ASSETS, on PATH or in ${env.SPIDERPOOL_CACHE}; building once from the Go module proxy`);
    expect(err).toBeInstanceOf(BinaryBuildError);
    expect(err).toMatchObject({ component: "helm", logFile: calls[0]?.logFile });
    expect((err as Error).message).toBe(
      `building helm failed (exit 1) after 2s; log: ${calls[0]?.logFile}\n[build-binaries] building helm\ngo: helm.sh/helm/v3@v3.19.0: no space left on device`,
    );
  });

  it("says so when a build was killed (out of memory, say)", async () => {
    const { build, calls } = controlledBuild(env, {});
    const done = ensureBinaries(["etcd"], { env, build, report });
    await jest.advanceTimersByTimeAsync(0);
    calls[0]?.finish({ code: null, signal: "SIGKILL" });
    await expect(done).rejects.toThrow(/^building etcd failed \(killed by SIGKILL\) after 0s; log: /);
  });

  it("fails when a build succeeds without producing the binary", async () => {
    const { build, calls } = controlledBuild(env, { kwok: [] });
    const done = ensureBinaries(["kwok"], { env, build, report });
    await jest.advanceTimersByTimeAsync(0);
    calls[0]?.finish();
    await expect(done).rejects.toThrow(`building kwok finished, yet ${cachedPath("kwok", env)} is not there`);
  });

  it("fails naming the step when the build cannot start", async () => {
    const build: BuildRunner = () => Promise.reject(new Error("spawn bash ENOENT"));
    await expect(ensureBinaries(["etcd"], { env, build, report })).rejects.toThrow(/^building etcd could not start \(spawn bash ENOENT\)/);
  });
});

describe("formatElapsed", () => {
  it.each([
    [0, "0s"],
    [59_999, "59s"],
    [60_000, "1m00s"],
    [187_000, "3m07s"],
    [3_600_000, "60m00s"],
  ])("%i ms is %s", (ms, text) => expect(formatElapsed(ms)).toBe(text));
});
