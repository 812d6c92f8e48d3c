import { afterAll, describe, expect, it } from "@jest/globals";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { clusterDir, readState, startCluster, stopCluster } from "../../local-cluster/cluster.js";
import { alive, freePort } from "../../local-cluster/processes.js";

/**
 * A test run killed midway leaves its control plane behind; the next run must find those
 * processes (by pid file, or by their command line when the pid files are gone) and stop
 * them before starting fresh.
 */
describe("local control plane harness", () => {
  const name = `stale-${process.pid}`;
  afterAll(() => stopCluster(clusterDir(name)));

  it("cleans up processes a killed run left behind", async () => {
    const first = await startCluster(name, ["etcd"]);
    const oldPid = Number(readFileSync(join(first.dir, "pids", "etcd.pid"), "utf8"));
    expect(alive(oldPid)).toBe(true);

    // The run "dies": nobody stops etcd, and even its pid files are lost.
    rmSync(join(first.dir, "pids"), { recursive: true, force: true });

    const second = await startCluster(name, ["etcd"]);
    expect(alive(oldPid)).toBe(false);
    expect(readState(second.dir)?.ports.etcd).not.toBe(first.ports.etcd);
    const newPid = Number(readFileSync(join(second.dir, "pids", "etcd.pid"), "utf8"));
    expect(alive(newPid)).toBe(true);

    await stopCluster(second.dir);
    expect(alive(newPid)).toBe(false);
    // Its port is free again.
    expect(await freePort()).toBeGreaterThan(0);
  });

  it("leaves alone a cluster whose name merely starts with the same letters", async () => {
    const longer = await startCluster(`${name}-2`, ["etcd"]);
    const pid = Number(readFileSync(join(longer.dir, "pids", "etcd.pid"), "utf8"));
    await startCluster(name, ["etcd"]);
    await stopCluster(clusterDir(name));
    expect(alive(pid)).toBe(true);
    await stopCluster(longer.dir);
    expect(alive(pid)).toBe(false);
  });
});
