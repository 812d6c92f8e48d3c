import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { COORDINATOR_ERROR_CODES } from "../../../../cni/coordinator/codes.js";
import { FIELD_KEYS, parseCoordinatorConf } from "../../../../cni/coordinator/config.js";

const read = (path: string): string => readFileSync(fileURLToPath(new URL(`../../../../${path}`, import.meta.url)), "utf8");
const doc = read("docs/coordinator.md");
const rows = new Map(
  doc
    .split("\n")
    .map((line) => /^\| (\d+) \| (.+) \| (.+) \|$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [Number(m[1]), { when: m[2] ?? "", fix: m[3] ?? "" }]),
);

describe("docs/coordinator.md", () => {
  it.each(Object.entries(COORDINATOR_ERROR_CODES))("has a row for %s (%i) saying when and what to do", (_name, code) => {
    expect(rows.get(code)?.when.length).toBeGreaterThan(20);
    expect(rows.get(code)?.fix.length).toBeGreaterThan(10);
  });

  it("lists no code the plugin does not define", () => {
    const known = new Set<number>(Object.values(COORDINATOR_ERROR_CODES));
    expect([...rows.keys()].filter((code) => !known.has(code))).toEqual([]);
  });

  it.each(FIELD_KEYS)("documents the field %s", (field) => {
    expect(doc).toContain(`\`${field}\``);
  });

  it("its example network config is one the coordinator accepts", () => {
    const list = JSON.parse(read("docs/examples/macvlan-coordinator.conflist")) as { cniVersion: string; name: string; plugins: Record<string, unknown>[] };
    const entry = list.plugins.find((p) => p.type === "coordinator");
    const conf = parseCoordinatorConf(JSON.stringify({ ...entry, cniVersion: list.cniVersion, name: list.name, prevResult: {} }), "ADD");
    expect(conf.tunables.serviceCIDR).toEqual([{ family: 4, ip: "10.233.0.0", prefix: 18 }]);
  });
});
