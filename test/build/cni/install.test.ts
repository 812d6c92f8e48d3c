import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseNetConf } from "../../../cni/config.js";

const script = fileURLToPath(new URL("../../../scripts/install-cni.sh", import.meta.url));
const VERSION_JSON = '{"cniVersion":"1.1.0","supportedVersions":["1.1.0"]}';

let tmp: string;
let bin: string;
let conf: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "install-cni-"));
  bin = join(tmp, "opt/cni/bin");
  conf = join(tmp, "etc/cni/net.d");
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** A stand-in host artifact (install-cni.sh only copies files and calls VERSION). */
function artifact(name: string, files: Record<string, string>): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text, { mode: file === ".spiderpool.cjs" ? 0o644 : 0o755 });
  return dir;
}
const sea = (version = "1") => artifact(`sea-${version}`, { spiderpool: `#!/bin/sh\n# build ${version}\necho '${VERSION_JSON}'\n` });
const launcher = () =>
  artifact("launcher", { spiderpool: `#!/bin/sh\necho '${VERSION_JSON}'\n`, ".spiderpool-node": "#!/bin/sh\n", ".spiderpool.cjs": "// bundle\n" });

function install(...args: string[]) {
  const res = spawnSync("bash", [script, "--bin-dir", bin, "--conf-dir", conf, ...args], { encoding: "utf8" });
  return { status: res.status, log: res.stderr };
}

describe("install-cni.sh", () => {
  it("installs the plugin and writes a macvlan conflist this plugin accepts", () => {
    const res = install("--from", sea(), "--master", "ens192", "--ipv4-pool", "v4-a,rack-*", "--ipv6-pool", "v6-a", "--clean-gateway");
    expect(res.status).toBe(0);
    expect(statSync(join(bin, "spiderpool")).mode & 0o777).toBe(0o755);
    const list = JSON.parse(readFileSync(join(conf, "90-spiderpool-macvlan.conflist"), "utf8")) as {
      cniVersion: string;
      name: string;
      plugins: Record<string, unknown>[];
    };
    expect(list).toMatchObject({ cniVersion: "1.0.0", name: "macvlan-ens192", plugins: [{ type: "macvlan", master: "ens192", mode: "bridge" }] });
    // What the runtime hands the plugin: the plugin's entry plus the list's name and version.
    const parsed = parseNetConf(JSON.stringify({ ...list.plugins[0], cniVersion: list.cniVersion, name: list.name }), "ADD");
    expect(parsed.ipam).toMatchObject({
      defaultIPv4IPPool: ["v4-a", "rack-*"],
      defaultIPv6IPPool: ["v6-a"],
      cleanGateway: true,
      socketPath: "/var/run/spidernet/spiderpool.sock",
      logFilePath: "/var/log/spidernet/spiderpool.log",
    });
  });

  it("is idempotent: a second run changes nothing", () => {
    const from = sea();
    expect(install("--from", from, "--master", "eth0").status).toBe(0);
    const before = [statSync(join(bin, "spiderpool")).ino, statSync(join(conf, "90-spiderpool-macvlan.conflist")).ino];
    const again = install("--from", from, "--master", "eth0");
    expect(again.status).toBe(0);
    expect(again.log).toMatch(/spiderpool is up to date/);
    expect(again.log).toMatch(/conflist is up to date/);
    expect([statSync(join(bin, "spiderpool")).ino, statSync(join(conf, "90-spiderpool-macvlan.conflist")).ino]).toEqual(before);
  });

  it("replaces a changed plugin by rename and leaves no temp files", () => {
    expect(install("--from", sea("1")).status).toBe(0);
    const ino = statSync(join(bin, "spiderpool")).ino;
    expect(install("--from", sea("2")).status).toBe(0);
    expect(readFileSync(join(bin, "spiderpool"), "utf8")).toContain("build 2");
    expect(statSync(join(bin, "spiderpool")).ino).not.toBe(ino);
    expect(readdirSync(bin).sort()).toEqual(["spiderpool"]);
  });

  it("switching from the launcher to a single executable removes the launcher's files", () => {
    expect(install("--from", launcher()).status).toBe(0);
    expect(readdirSync(bin).sort()).toEqual([".spiderpool-node", ".spiderpool.cjs", "spiderpool"]);
    expect(statSync(join(bin, ".spiderpool.cjs")).mode & 0o777).toBe(0o644);
    expect(install("--from", sea()).status).toBe(0);
    expect(readdirSync(bin)).toEqual(["spiderpool"]);
  });

  it("installs every plugin of the artifact and verifies each, support files before entry points", () => {
    const two = artifact("two", {
      spiderpool: `#!/bin/sh\necho '${VERSION_JSON}'\n`,
      coordinator: `#!/bin/sh\necho '${VERSION_JSON}'\n`,
      ".spiderpool-node": "#!/bin/sh\n",
      ".spiderpool.cjs": "// bundle\n",
      ".coordinator.cjs": "// bundle\n",
    });
    const res = install("--from", two);
    expect(res.status).toBe(0);
    expect(readdirSync(bin).sort()).toEqual([".coordinator.cjs", ".spiderpool-node", ".spiderpool.cjs", "coordinator", "spiderpool"]);
    const order = [...res.log.matchAll(/installed \S+\/(\S+)/g)].map((m) => m[1]);
    expect(order.slice(-2).sort()).toEqual(["coordinator", "spiderpool"]);
    // One executable per plugin now: every plugin's launcher files go.
    expect(install("--from", artifact("two-exe", { spiderpool: `#!/bin/sh\necho '${VERSION_JSON}'\n`, coordinator: `#!/bin/sh\necho '${VERSION_JSON}'\n` })).status).toBe(0);
    expect(readdirSync(bin).sort()).toEqual(["coordinator", "spiderpool"]);
    const broken = artifact("broken-second", { spiderpool: `#!/bin/sh\necho '${VERSION_JSON}'\n`, coordinator: "#!/bin/sh\nexit 3\n" });
    expect(install("--from", broken).log).toMatch(/coordinator failed its VERSION call/);
    expect(install("--from", broken, "--uninstall").status).toBe(0);
    expect(readdirSync(bin)).toEqual([]);
  });

  it.each([
    ["a master with a quote", ["--master", 'eth0"']],
    ["a master longer than 15 bytes", ["--master", "a234567890123456"]],
    ["a pool name with a space", ["--master", "eth0", "--ipv4-pool", "v4 a"]],
    ["an unknown macvlan mode", ["--master", "eth0", "--mode", "l3"]],
    ["a cniVersion the plugin does not speak", ["--master", "eth0", "--cni-version", "0.2.0"]],
    ["a conf file that is not a conflist", ["--conf-file", "../evil"]],
    ["an unknown option", ["--bogus"]],
  ])("refuses %s before touching anything", (_what, args) => {
    const res = install("--from", sea(), ...args);
    expect(res.status).not.toBe(0);
    expect(existsSync(bin)).toBe(false);
    expect(existsSync(conf)).toBe(false);
  });

  it("fails when the installed plugin does not answer VERSION", () => {
    const broken = artifact("broken", { spiderpool: "#!/bin/sh\nexit 3\n" });
    expect(install("--from", broken).status).not.toBe(0);
    expect(install("--from", broken, "--no-verify").status).toBe(0);
  });

  it("fails with a clear message when there is nothing to install", () => {
    const res = install("--from", join(tmp, "nothing"));
    expect(res.status).not.toBe(0);
    expect(res.log).toMatch(/node scripts\/bundle\.mjs --host/);
  });

  it("installs the coordinator beside the IPAM plugin, checks its VERSION, and chains it with --coordinator", () => {
    const from = artifact("both", { spiderpool: `#!/bin/sh\necho '${VERSION_JSON}'\n`, coordinator: `#!/bin/sh\necho '${VERSION_JSON}'\n` });
    expect(install("--from", from, "--master", "eth0", "--coordinator").status).toBe(0);
    expect(readdirSync(bin).sort()).toEqual(["coordinator", "spiderpool"]);
    const list = JSON.parse(readFileSync(join(conf, "90-spiderpool-macvlan.conflist"), "utf8")) as { plugins: { type: string }[] };
    expect(list.plugins.map((p) => p.type)).toEqual(["macvlan", "coordinator"]);
    const broken = artifact("broken-coordinator", { spiderpool: `#!/bin/sh\necho '${VERSION_JSON}'\n`, coordinator: "#!/bin/sh\nexit 3\n" });
    const res = install("--from", broken);
    expect(res.status).not.toBe(0);
    expect(res.log).toMatch(/coordinator failed its VERSION call/);
    expect(install("--uninstall").status).toBe(0);
    expect(readdirSync(bin)).toEqual([]);
  });

  it("uninstalls the plugin and its config", () => {
    expect(install("--from", launcher(), "--master", "eth0").status).toBe(0);
    expect(install("--uninstall").status).toBe(0);
    expect(readdirSync(bin)).toEqual([]);
    expect(readdirSync(conf)).toEqual([]);
  });
});
