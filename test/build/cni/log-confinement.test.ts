/**
 * The plugins' log files stay in the log directory the host install set (the host settings
 * file, not the network config a tenant's NetworkAttachmentDefinition writes): a
 * `log_file_path` (spiderpool) or `logOptions.logFile` (coordinator) elsewhere is refused
 * with code 7 naming the field, and nothing is written.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { K8S_ARGS, netconf } from "../../unit/cni/helpers.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
let out: string;
let tmp: string;
let logDir: string;
let outside: string;
let hostSettings: string;

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), "cni-logdir-"));
  const res = spawnSync(process.execPath, [join(root, "scripts/bundle.mjs"), "--only", "cni,coordinator", "--outdir", out], { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`bundle.mjs failed:\n${res.stdout}${res.stderr}`);
  tmp = join(out, "host");
  logDir = join(tmp, "var-log-spidernet");
  outside = join(tmp, "etc");
  mkdirSync(logDir, { recursive: true });
  mkdirSync(outside, { recursive: true });
  symlinkSync(outside, join(logDir, "escape"));
  hostSettings = join(tmp, "spiderpool-cni.json");
  writeFileSync(hostSettings, JSON.stringify({ log_dir: logDir }));
}, 60_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

const add = { CNI_COMMAND: "ADD", CNI_CONTAINERID: "c0ffee", CNI_NETNS: "/var/run/netns/none", CNI_IFNAME: "eth0", CNI_PATH: "/opt/cni/bin", CNI_ARGS: K8S_ARGS };

function run(program: string, stdin: string): SpawnSyncReturns<string> {
  const env = { PATH: "/usr/bin:/bin:/usr/sbin:/sbin", SPIDERPOOL_CNI_HOST_SETTINGS: hostSettings, ...add };
  return spawnSync(process.execPath, [join(out, "cni", program)], { env, input: stdin, encoding: "utf8", timeout: 20_000 });
}

function cniErrorOf(res: SpawnSyncReturns<string>): { code: number; msg: string; details?: string } {
  expect(res.status).toBe(1);
  return JSON.parse(res.stdout) as { code: number; msg: string; details?: string };
}

const sock = () => join(tmp, "nobody.sock");

describe("log files confined to the host's log directory", () => {
  const escapes = (): [string, string][] => [
    ["a path outside", join(outside, "spiderpool.log")],
    ["a path that climbs out with ..", join(logDir, "..", "etc", "climbed.log")],
    ["a path through a symlink out of it", join(logDir, "escape", "linked.log")],
    ["a relative path", "spiderpool.log"],
  ];

  it.each([0, 1, 2, 3])("spiderpool refuses log_file_path case %i with code 7 naming the field, writing nothing", (i) => {
    const [, path] = escapes()[i] ?? ["", ""];
    const err = cniErrorOf(run("spiderpool.cjs", netconf({}, { ipam_unix_socket_path: sock(), log_file_path: path })));
    expect(readdirSync(outside)).toEqual([]);
    expect(err.code).toBe(7);
    expect(err.msg).toContain("ipam.log_file_path");
    expect(`${err.msg} ${err.details ?? ""}`).toContain(logDir);
    expect(readdirSync(outside)).toEqual([]);
  });

  it.each([0, 1, 2, 3])("coordinator refuses logOptions.logFile case %i with code 7 naming the field, writing nothing", (i) => {
    const [, path] = escapes()[i] ?? ["", ""];
    const prevResult = { cniVersion: "1.0.0", interfaces: [{ name: "eth0", sandbox: "/var/run/netns/none" }], ips: [{ interface: 0, address: "10.6.0.5/24" }] };
    const conf = JSON.stringify({ cniVersion: "1.0.0", name: "n", type: "coordinator", agentSocketPath: "", prevResult, logOptions: { logFile: path } });
    const err = cniErrorOf(run("coordinator.cjs", conf));
    expect(readdirSync(outside)).toEqual([]);
    expect(err.code).toBe(7);
    expect(err.msg).toContain("logOptions.logFile");
    expect(readdirSync(outside)).toEqual([]);
  });

  it("writes a log file inside the directory, sub-folders included", () => {
    const log = join(logDir, "net1", "spiderpool.log");
    run("spiderpool.cjs", netconf({}, { ipam_unix_socket_path: sock(), log_file_path: log }));
    expect(readFileSync(log, "utf8")).toMatch(/"code":11/);
  });

  it("without a host settings file the directory is /var/log/spidernet", () => {
    const env = { PATH: "/usr/bin:/bin", SPIDERPOOL_CNI_HOST_SETTINGS: join(tmp, "absent.json"), ...add };
    const res = spawnSync(process.execPath, [join(out, "cni", "spiderpool.cjs")], { env, input: netconf({}, { ipam_unix_socket_path: sock(), log_file_path: join(outside, "x.log") }), encoding: "utf8" });
    const err = cniErrorOf(res);
    expect(err.code).toBe(7);
    expect(`${err.msg} ${err.details ?? ""}`).toContain("/var/log/spidernet");
    expect(existsSync(join(outside, "x.log"))).toBe(false);
  });
});
