import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { AnnotationError, ERROR_CODES, IpamError, isIpamError } from "../../../ipam/errors.js";

const doc = readFileSync(fileURLToPath(new URL("../../../docs/errors.md", import.meta.url)), "utf8");
/** Rows of the table: `| \`CODE\` | meaning | fix |`. */
const rows = new Map(
  doc
    .split("\n")
    .map((line) => /^\| `([A-Z_]+)` \| (.+) \| (.+) \|$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1] as string, { meaning: m[2] as string, fix: m[3] as string }]),
);

describe("error codes", () => {
  it.each([...ERROR_CODES])("%s has a row in docs/errors.md with a meaning and a fix", (code) => {
    const row = rows.get(code);
    expect(row).toBeDefined();
    expect(row?.meaning.trim().length).toBeGreaterThan(10);
    expect(row?.fix.trim().length).toBeGreaterThan(10);
  });

  it("docs/errors.md lists no code the core does not have", () => {
    expect([...rows.keys()].filter((c) => !(ERROR_CODES as readonly string[]).includes(c))).toEqual([]);
  });

  it("errors carry a stable code and details, and annotation errors name key and value", () => {
    const e = new AnnotationError("ipam.spidernet.io/ippool", "x", "not valid JSON");
    expect(e).toBeInstanceOf(IpamError);
    expect(isIpamError(e, "ANNOTATION_INVALID")).toBe(true);
    expect(isIpamError(e, "POOL_EXHAUSTED")).toBe(false);
    expect(e.message).toBe("annotation ipam.spidernet.io/ippool has value 'x': not valid JSON");
    expect(e.details).toEqual({ annotation: "ipam.spidernet.io/ippool", value: "x", problem: "not valid JSON" });
    expect(isIpamError(new Error("x"))).toBe(false);
  });
});
