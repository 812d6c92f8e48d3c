import { expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * .ci/run in a scratch copy of the repository's layout, with `npm` replaced by a script that
 * fails the step named in FAIL_STEP: whichever step of the README's test command fails, the
 * run must fail and must not say it passed.
 */
function ciRunWith(failStep: string): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), "ci-run-"));
  try {
    mkdirSync(join(dir, ".ci"));
    mkdirSync(join(dir, "scripts"));
    mkdirSync(join(dir, "bin"));
    copyFileSync(join(process.cwd(), ".ci/run"), join(dir, ".ci/run"));
    writeFileSync(join(dir, "scripts/ensure-deps.sh"), "exit 0\n");
    writeFileSync(join(dir, "bin/npm"), '#!/usr/bin/env bash\necho "npm $*"\n[ "$1" = "$FAIL_STEP" ] && exit 1\nexit 0\n');
    chmodSync(join(dir, "bin/npm"), 0o755);
    const r = spawnSync("bash", [join(dir, ".ci/run")], { encoding: "utf8", env: { ...process.env, PATH: `${join(dir, "bin")}:${process.env.PATH ?? ""}`, FAIL_STEP: failStep } });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

it("fails, and never says it passed, when npm ci or npm test fails", () => {
  for (const step of ["ci", "test"]) {
    const r = ciRunWith(step);
    expect({ step, status: r.status, passed: r.out.includes("[ci] passed") }).toEqual({ step, status: 1, passed: false });
  }
  const ok = ciRunWith("none");
  expect({ status: ok.status, passed: ok.out.includes("[ci] passed") }).toEqual({ status: 0, passed: true });
});

it("runs the README's test command", () => {
  const readme = readFileSync(join(process.cwd(), "README.md"), "utf8");
  expect(readme).toContain("npm ci && npm test");
  expect(readFileSync(join(process.cwd(), ".ci/run"), "utf8")).toContain("npm ci && npm test");
});
