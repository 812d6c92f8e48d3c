import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../../cni/log.js";
import { logFileSink, rotateIfLarge } from "../../../cni/log-file.js";

const at = () => new Date("2026-01-02T03:04:05.000Z");

describe("createLogger", () => {
  it("writes JSON lines at or above its level, with the base and call fields", () => {
    const lines: string[] = [];
    const log = createLogger("info", [(l) => lines.push(l)], { plugin: "spiderpool" }, at).with({ containerID: "c1" });
    log.debug("hidden");
    log.info("shown", { pod: "default/web-0" });
    log.error("bad", { code: 11 });
    expect(lines).toEqual([
      '{"level":"info","time":"2026-01-02T03:04:05.000Z","plugin":"spiderpool","containerID":"c1","pod":"default/web-0","msg":"shown"}\n',
      '{"level":"error","time":"2026-01-02T03:04:05.000Z","plugin":"spiderpool","containerID":"c1","code":11,"msg":"bad"}\n',
    ]);
  });

  it("sends each line to every sink", () => {
    const a: string[] = [];
    const b: string[] = [];
    createLogger("warn", [(l) => a.push(l), (l) => b.push(l)]).warn("w");
    expect(a).toHaveLength(1);
    expect(b).toEqual(a);
  });
});

describe("the log file", () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), "cni-log-"));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it("creates its folder and appends", () => {
    const path = join(tmp, "a", "b", "spiderpool.log");
    const sink = logFileSink({ path, maxSizeMiB: 100, maxCount: 1, onFailure: () => undefined });
    sink("one\n");
    sink("two\n");
    expect(readFileSync(path, "utf8")).toBe("one\ntwo\n");
  });

  it("rotates past the size, shifting older files up to the count", () => {
    const path = join(tmp, "spiderpool.log");
    writeFileSync(path, Buffer.alloc(1024 * 1024, "x"));
    writeFileSync(`${path}.1`, "older");
    expect(rotateIfLarge({ path, maxSizeMiB: 1, maxCount: 2 })).toBe(true);
    expect(readFileSync(`${path}.2`, "utf8")).toBe("older");
    expect(readFileSync(`${path}.1`).length).toBe(1024 * 1024);
    expect(existsSync(path)).toBe(false);
    expect(rotateIfLarge({ path, maxSizeMiB: 1, maxCount: 2 })).toBe(false);
  });

  it("does not rotate below the size, nor with size 0", () => {
    const path = join(tmp, "spiderpool.log");
    writeFileSync(path, "small");
    expect(rotateIfLarge({ path, maxSizeMiB: 1, maxCount: 2 })).toBe(false);
    writeFileSync(path, Buffer.alloc(2 * 1024 * 1024));
    expect(rotateIfLarge({ path, maxSizeMiB: 0, maxCount: 2 })).toBe(false);
  });

  it("reports once when the file cannot be written, and never throws", () => {
    writeFileSync(join(tmp, "file"), "");
    const failures: string[] = [];
    const sink = logFileSink({ path: join(tmp, "file", "under-a-file.log"), maxSizeMiB: 1, maxCount: 1, onFailure: (l) => failures.push(l) });
    expect(() => {
      sink("a\n");
      sink("b\n");
    }).not.toThrow();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/cannot write log file/);
  });
});
