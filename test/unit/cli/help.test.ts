import { describe, expect, it } from "@jest/globals";
import { COMMANDS } from "../../../cli/commands.js";
import { runCli } from "../../../cli/main.js";
import { bar, percent, table } from "../../../cli/output.js";

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli({ argv, env: {}, io: { out: (t) => (out += t), err: (t) => (err += t), tty: false } });
  return { code, out, err };
}

describe("kubectl spiderpool --help", () => {
  it("lists every command with its summary", async () => {
    const { code, out } = await run(["--help"]);
    expect(code).toBe(0);
    for (const c of COMMANDS) expect(out).toMatch(new RegExp(`\\n  ${c.name}\\s+${c.summary.replace(/[()]/g, "\\$&")}\\n`));
    expect(await run([])).toEqual({ code: 0, out, err: "" });
  });

  it.each(COMMANDS.map((c) => [c.name, c] as const))("%s --help shows its synopsis, what it does and an example", async (name, c) => {
    for (const argv of [[name, "--help"], [name, "-h"], ["--help", name]]) {
      const { code, out, err } = await run(argv);
      expect({ code, err }).toEqual({ code: 0, err: "" });
      expect(out).toContain(`Usage: kubectl spiderpool ${c.usage}\n`);
      expect(out).toContain(c.help);
      expect(out).toMatch(/Example:\n {2}kubectl spiderpool /);
      expect(out).toContain("--kubeconfig FILE");
    }
  });

  it("refuses an unknown command or flag with exit code 2 and says where the usage is", async () => {
    expect(await run(["frobnicate"])).toEqual({ code: 2, out: "", err: expect.stringContaining("unknown command frobnicate; the commands are usage, who, why, check, release, gc") });
    const bad = await run(["usage", "--frobnicate"]);
    expect(bad).toEqual({ code: 2, out: "", err: expect.stringContaining("run kubectl spiderpool usage --help") });
  });
});

describe("kubectl spiderpool text output", () => {
  it("draws bars in proportion and colours them only when asked", () => {
    expect(bar({ color: false }, 0, 10)).toBe(`[${"-".repeat(20)}]`);
    expect(bar({ color: false }, 5, 10)).toBe(`[${"#".repeat(10)}${"-".repeat(10)}]`);
    expect(bar({ color: false }, 12, 10)).toBe(`[${"#".repeat(20)}]`);
    expect(bar({ color: false }, 3, 0)).toBe(`[${"-".repeat(20)}]`);
    expect(bar({ color: true }, 19, 20)).toContain("\u001b[31m");
    expect(bar({ color: true }, 15, 20)).toContain("\u001b[33m");
    expect(bar({ color: true }, 1, 20)).toContain("\u001b[32m");
    expect([percent(1, 3), percent(0, 0)]).toEqual(["33.3%", "-"]);
  });

  it("aligns columns on what is visible, colour codes aside", () => {
    expect(table([["A", "BB"], ["\u001b[1mlong\u001b[0m", "x"]])).toBe("A     BB\n\u001b[1mlong\u001b[0m  x\n");
  });
});
