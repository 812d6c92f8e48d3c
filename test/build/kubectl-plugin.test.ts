import { describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "../../local-cluster/binaries.js";

const run = promisify(execFile);

/** The plugin as kubectl runs it: the executable on PATH, from any directory, output piped. */
describe("bin/kubectl-spiderpool", () => {
  it("runs from another directory and prints plain help when piped", async () => {
    const { stdout } = await run(join(REPO_ROOT, "bin", "kubectl-spiderpool"), ["--help"], { cwd: tmpdir() });
    expect(stdout).toMatch(/^kubectl spiderpool: /);
    for (const c of ["usage", "who", "why", "check", "release", "gc"]) expect(stdout).toMatch(new RegExp(`\\n  ${c}\\s`));
    expect(stdout).not.toContain(String.fromCharCode(27));
  });

  it("exits 2 with the reason on a command line to fix", async () => {
    const failed = await run(join(REPO_ROOT, "bin", "kubectl-spiderpool"), ["frobnicate"], { cwd: tmpdir() }).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown command frobnicate") });
  });
});
