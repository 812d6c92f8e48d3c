import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CNI_ERROR_CODES } from "../../../cni/protocol.js";

const doc = readFileSync(fileURLToPath(new URL("../../../docs/cni.md", import.meta.url)), "utf8");
/** Rows of the error table: `| 11 | when | what to do |`. */
const rows = new Map(
  doc
    .split("\n")
    .map((line) => /^\| (\d+) \| (.+) \| (.+) \|$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [Number(m[1]), { when: m[2] ?? "", fix: m[3] ?? "" }]),
);

describe("docs/cni.md", () => {
  it.each(Object.entries(CNI_ERROR_CODES))("has a row for %s (%i) saying when and what to do", (_name, code) => {
    const row = rows.get(code);
    expect(row).toBeDefined();
    expect(row?.when.length).toBeGreaterThan(20);
    expect(row?.fix.length).toBeGreaterThan(10);
  });

  it("lists no code the plugin and protocol do not define", () => {
    const known = new Set<number>(Object.values(CNI_ERROR_CODES));
    expect([...rows.keys()].filter((code) => !known.has(code))).toEqual([]);
  });
});
