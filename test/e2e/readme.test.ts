import { describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "../../local-cluster/binaries.js";

const run = promisify(execFile);

/** The README's "run it" command does its job: a demo Deployment's Pods get pool addresses. */
describe("npm start", () => {
  it("brings up the local control plane, the controller and the demo, and shows the addresses", async () => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", join(REPO_ROOT, "scripts/start.ts"), "--exit"], {
      cwd: REPO_ROOT,
      env: { ...process.env, SPIDERPOOL_CLUSTER_NAME: `readme-${process.pid}` },
      maxBuffer: 16 << 20,
    });
    expect(stdout).toMatch(/quick-start-v4\s+4\s+172\.18\.40\.0\/24\s+3\s+161\s+true/);
    expect(stdout.match(/"ipv4":"172\.18\.40\.\d+\/24","ipv4Pool":"quick-start-v4"/g)).toHaveLength(3);
    expect(stdout).toContain("stopped");
  });
});
