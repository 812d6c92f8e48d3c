import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, cachedPath, type BinaryName } from "../../local-cluster/binaries.js";
import { buildScriptRunner, ensureBinaries } from "../../local-cluster/ensure-binaries.js";

/**
 * The real builder (a bash process with its output in a log) around a stand-in for
 * scripts/build-binaries.sh that takes a fraction of a second; and the real script's
 * cheap paths, which must agree with local-cluster/binaries.ts.
 */
let root: string;
let script: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "ensure-binaries-build-"));
  script = join(root, "fake-build.sh");
  writeFileSync(
    script,
    [
      "#!/bin/sh",
      'echo "[build-binaries] building $1"',
      "sleep 0.5",
      'echo "go: compiled $1"',
      '[ "$1" = helm ] || { echo "go: no module provides $1" >&2; exit 2; }',
      'mkdir -p "$(dirname "$FAKE_BINARY")" && printf "#!/bin/sh\\n" > "$FAKE_BINARY" && chmod +x "$FAKE_BINARY"',
      "",
    ].join("\n"),
  );
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("ensureBinaries with the build script's runner", () => {
  const envFor = (cache: string, binary: BinaryName): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { PATH: "/usr/bin:/bin", SPIDERPOOL_CACHE: join(root, cache) };
    return { ...env, FAKE_BINARY: cachedPath(binary, env) };
  };

  it("runs the build with its output in the log, reports progress, and finds the result", async () => {
    const env = envFor("ok", "helm");
    const lines: string[] = [];
    const found = await ensureBinaries(["helm"], { env, build: buildScriptRunner(script), report: (l) => lines.push(l), progressEveryMs: 100 });
    expect(found.get("helm")).toBe(env.FAKE_BINARY);
    const log = join(root, "ok", "logs", "build-helm.log");
    expect(readFileSync(log, "utf8")).toBe("[build-binaries] building helm\ngo: compiled helm\n");
    expect(lines[1]).toBe(`[binaries] building helm; log: ${log}`);
    expect(lines.some((l) => /^\[binaries\] {3}helm: \d+s so far; /.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^\[binaries\] built helm in \d+s$/);
  });

  it("fails naming the component, the log and its last lines (stderr included)", async () => {
    const env = envFor("broken", "kwok");
    const log = join(root, "broken", "logs", "build-kwok.log");
    await expect(ensureBinaries(["kwok"], { env, build: buildScriptRunner(script), report: () => undefined })).rejects.toThrow(
      new RegExp(`^building kwok failed \\(exit 2\\) after \\d+s; log: ${log}\\n\\[build-binaries\\] building kwok\\ngo: compiled kwok\\ngo: no module provides kwok$`),
    );
    expect(existsSync(env.FAKE_BINARY ?? "")).toBe(false);
  });
});

describe("scripts/build-binaries.sh", () => {
  const real = join(REPO_ROOT, "scripts/build-binaries.sh");

  it("puts each binary where local-cluster/binaries.ts looks for it", () => {
    const env = { PATH: process.env.PATH, SPIDERPOOL_CACHE: "/cache" };
    const printed = execFileSync("bash", [real, "--print"], { env, encoding: "utf8" }).trim().split("\n");
    expect(printed.map((l) => l.split(" "))).toEqual(
      (["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok", "helm"] as const).map((b) => [b, cachedPath(b, env)]),
    );
  });

  it("refuses an unknown component before building anything", () => {
    const res = spawnSync("bash", [real, "bogus", "etcd"], { env: { PATH: process.env.PATH, SPIDERPOOL_CACHE: join(root, "refused") }, encoding: "utf8" });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/usage: .* etcd kwok kubernetes helm/);
    expect(existsSync(join(root, "refused"))).toBe(false);
  });
});
