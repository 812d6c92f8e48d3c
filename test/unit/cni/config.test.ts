import { describe, expect, it } from "@jest/globals";
import { parseIpam, parseNetConf, parseValidAttachments } from "../../../cni/config.js";
import { DEFAULT_AGENT_SOCKET_PATH } from "../../../cni/protocol.js";
import type { CniCommand } from "../../../cni/versions.js";
import { cniCode, cniError, netconf } from "./helpers.js";

describe("parseNetConf", () => {
  it("applies the defaults of an ipam stanza that only names the type", () => {
    const conf = parseNetConf(netconf(), "ADD");
    expect(conf).toEqual({
      cniVersion: "1.0.0",
      name: "macvlan-eth0",
      ipam: {
        logLevel: "info",
        logFileMaxSizeMiB: 100,
        logFileMaxCount: 10,
        defaultIPv4IPPool: [],
        defaultIPv6IPPool: [],
        cleanGateway: false,
        socketPath: DEFAULT_AGENT_SOCKET_PATH,
      },
    });
    expect(Object.isFrozen(conf)).toBe(true);
  });

  it("reads every Spiderpool field", () => {
    const ipam = parseNetConf(
      netconf({}, {
        log_level: "DEBUG",
        log_file_path: "/var/log/spidernet/spiderpool.log",
        log_file_max_size: 5,
        log_file_max_age: 30,
        log_file_max_count: 2,
        default_ipv4_ippool: ["v4-a", "v4-*"],
        default_ipv6_ippool: ["v6-a"],
        clean_gateway: true,
        ipam_unix_socket_path: "/run/sp.sock",
      }),
      "ADD",
    ).ipam;
    expect(ipam).toEqual({
      logLevel: "debug",
      logFilePath: "/var/log/spidernet/spiderpool.log",
      logFileMaxSizeMiB: 5,
      logFileMaxCount: 2,
      defaultIPv4IPPool: ["v4-a", "v4-*"],
      defaultIPv6IPPool: ["v6-a"],
      cleanGateway: true,
      socketPath: "/run/sp.sock",
    });
  });

  it.each([
    ["WARNING", "warn"],
    ["Info", "info"],
    ["FATAL", "error"],
    ["panic", "error"],
  ])("maps log_level %s to %s", (given, level) => {
    expect(parseIpam({ type: "spiderpool", log_level: given }).logLevel).toBe(level);
  });

  it("keeps CHECK's prevResult, and nothing of it for other commands", () => {
    const prevResult = { cniVersion: "1.0.0", ips: [{ address: "10.6.0.5/24" }] };
    expect(parseNetConf(netconf({ prevResult }), "CHECK").prevResult).toEqual(prevResult);
    expect(parseNetConf(netconf({ prevResult }), "ADD").prevResult).toBeUndefined();
  });

  // Every bad-stdin case and the exact code the runtime gets.
  it.each<[string, number, string, CniCommand]>([
    ["not JSON", 6, "{cniVersion: 1.0.0", "ADD"],
    ["empty stdin", 6, "", "ADD"],
    ["a JSON array", 6, "[]", "ADD"],
    ["a JSON string", 6, '"x"', "DEL"],
    ["cniVersion that is a number", 6, netconf({ cniVersion: 1 }), "ADD"],
    ["no cniVersion (0.1.0 to libcni)", 1, netconf({ cniVersion: undefined }), "ADD"],
    ["cniVersion 0.2.0", 1, netconf({ cniVersion: "0.2.0" }), "ADD"],
    ["cniVersion 2.0.0", 1, netconf({ cniVersion: "2.0.0" }), "ADD"],
    ["cniVersion 1.0", 1, netconf({ cniVersion: "1.0" }), "ADD"],
    ["cniVersion that is not a version", 1, netconf({ cniVersion: "latest" }), "DEL"],
    ["CHECK below 0.4.0", 1, netconf({ cniVersion: "0.3.1" }), "CHECK"],
    ["GC at 1.0.0", 1, netconf({ cniVersion: "1.0.0", "cni.dev/valid-attachments": [] }), "GC"],
    ["STATUS at 1.0.0", 1, netconf({ cniVersion: "1.0.0" }), "STATUS"],
    ["STATUS at 0.4.0", 1, netconf({ cniVersion: "0.4.0" }), "STATUS"],
    ["no network name", 7, netconf({ name: undefined }), "ADD"],
    ["an empty network name", 7, netconf({ name: "" }), "ADD"],
    ["no ipam", 7, JSON.stringify({ cniVersion: "1.0.0", name: "n", type: "macvlan" }), "ADD"],
    ["ipam that is a string", 7, netconf({ ipam: "spiderpool" }), "ADD"],
    ["ipam.type host-local", 7, netconf({}, { type: "host-local" }), "ADD"],
    ["ipam without type", 7, netconf({ ipam: { default_ipv4_ippool: ["a"] } }), "ADD"],
    ["ipam.type Spiderpool (case matters)", 7, netconf({}, { type: "Spiderpool" }), "ADD"],
    ["a default pool that is a string", 7, netconf({}, { default_ipv4_ippool: "v4-a" }), "ADD"],
    ["a default pool list with an empty name", 7, netconf({}, { default_ipv6_ippool: [""] }), "ADD"],
    ["clean_gateway as a string", 7, netconf({}, { clean_gateway: "true" }), "ADD"],
    ["an unknown log_level", 7, netconf({}, { log_level: "verbose" }), "ADD"],
    ["a relative socket path", 7, netconf({}, { ipam_unix_socket_path: "run/sp.sock" }), "ADD"],
    ["a negative log_file_max_size", 7, netconf({}, { log_file_max_size: -1 }), "ADD"],
    ["log_file_path as a number", 7, netconf({}, { log_file_path: 7 }), "ADD"],
    ["an unknown ipam field (a typo of default_ipv4_ippool)", 2, netconf({}, { default_ipv4_pool: ["a"] }), "ADD"],
    ["host-local's ranges in a spiderpool stanza", 2, netconf({}, { ranges: [] }), "ADD"],
    ["GC without the valid-attachments list", 7, netconf({ cniVersion: "1.1.0" }), "GC"],
  ])("refuses %s with code %i", (_what, code, stdin, command) => {
    expect(cniCode(() => parseNetConf(stdin, command))).toBe(code);
  });

  it.each([
    ["CHECK at 0.4.0", "0.4.0", "CHECK"],
    ["ADD at 0.3.0", "0.3.0", "ADD"],
    ["DEL at 0.3.1", "0.3.1", "DEL"],
    ["STATUS at 1.1.0", "1.1.0", "STATUS"],
  ] as const)("accepts %s", (_what, cniVersion, command) => {
    expect(parseNetConf(netconf({ cniVersion }), command).cniVersion).toBe(cniVersion);
  });

  it("says which versions it speaks when refusing one, and which version a command needs", () => {
    expect(cniError(() => parseNetConf(netconf({ cniVersion: "0.2.0" }), "ADD")).details).toBe(
      "config is 0.2.0, plugin supports 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0",
    );
    const gc = cniError(() => parseNetConf(netconf({ cniVersion: "1.0.0" }), "GC"));
    expect(gc.message).toBe("config version does not allow GC");
    expect(gc.details).toBe("GC needs cniVersion 1.1.0 or newer, the config has 1.0.0");
  });

  it("names the unsupported field and its value (the spec asks for both)", () => {
    const err = cniError(() => parseNetConf(netconf({}, { default_ipv4_pool: ["a"] }), "ADD"));
    expect(err.message).toBe("unsupported field ipam.default_ipv4_pool");
    expect(err.details).toMatch(/^ipam\.default_ipv4_pool=\["a"\]; known fields: type, /);
  });
});

describe("GC attachments", () => {
  const list = [
    { containerID: "c1", ifname: "eth0" },
    { containerID: "c2", ifname: "net1" },
  ];

  it("reads cni.dev/valid-attachments", () => {
    expect(parseNetConf(netconf({ cniVersion: "1.1.0", "cni.dev/valid-attachments": list }), "GC").validAttachments).toEqual(list);
  });

  it("reads the older cni.dev/attachments", () => {
    expect(parseNetConf(netconf({ cniVersion: "1.1.0", "cni.dev/attachments": list }), "GC").validAttachments).toEqual(list);
  });

  it("prefers cni.dev/valid-attachments when libcni sends both", () => {
    expect(parseValidAttachments({ "cni.dev/valid-attachments": [list[0]], "cni.dev/attachments": list })).toEqual([list[0]]);
  });

  it("accepts an empty list (nothing is valid any more) and drops extra keys", () => {
    expect(parseValidAttachments({ "cni.dev/valid-attachments": [] })).toEqual([]);
    expect(parseValidAttachments({ "cni.dev/attachments": [{ containerID: "c1", ifname: "eth0", extra: 1 }] })).toEqual([
      { containerID: "c1", ifname: "eth0" },
    ]);
  });

  it.each([
    ["not a list", { "cni.dev/valid-attachments": {} }],
    ["an entry without containerID", { "cni.dev/valid-attachments": [{ ifname: "eth0" }] }],
    ["an entry whose ifname is a number", { "cni.dev/attachments": [{ containerID: "c", ifname: 0 }] }],
    ["an entry that is a string", { "cni.dev/valid-attachments": ["c1"] }],
  ])("refuses %s with code 7", (_what, raw) => {
    expect(cniCode(() => parseValidAttachments(raw))).toBe(7);
  });
});
