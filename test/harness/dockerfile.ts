import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, posix } from "node:path";

/**
 * The Dockerfile's build, without a Docker engine: each stage is a directory standing in for
 * its filesystem, RUN steps run there with `sh -c` (in the stage's WORKDIR), COPY copies from
 * the build context or an earlier stage. What the base image brings (node, npm, sh) comes
 * from this machine instead. Enough to prove that the steps work and that what the last
 * stage copies exists.
 */
export interface Instruction {
  op: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** The file's instructions as whole lines (continuations joined), with the line each starts on; comments dropped. */
function logicalLines(text: string): { line: number; text: string }[] {
  const lines = text.split("\n");
  const out: { line: number; text: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    let whole = lines[i] ?? "";
    while (whole.trimEnd().endsWith("\\") && i + 1 < lines.length) whole = `${whole.trimEnd().slice(0, -1)} ${lines[++i] ?? ""}`;
    if (whole.trim() && !whole.trim().startsWith("#")) out.push({ line, text: whole });
  }
  return out;
}

/** Instructions by stage; ARGs declared before the first FROM substituted. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const args: Record<string, string> = {};
  for (const { line, text: whole } of logicalLines(text)) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(whole);
    if (!m) continue;
    const op = (m[1] ?? "").toUpperCase();
    const rest = (m[2] ?? "").trim().replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? "");
    if (op === "ARG" && stages.length === 0) {
      const [name = "", value = ""] = rest.split("=", 2);
      args[name] = value;
    } else if (op === "FROM") {
      const [image = "", , alias] = rest.split(/\s+/);
      stages.push({ name: alias ?? String(stages.length), from: image, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ op, args: rest, line });
    }
  }
  return stages;
}

/** Paths of COPY: `[--from=stage] src... dest`. */
export function copyOf(i: Instruction): { from?: string; sources: string[]; dest: string } {
  const words = i.args.split(/\s+/);
  const flag = words[0]?.startsWith("--from=") ? words.shift() : undefined;
  const dest = words.pop() ?? "";
  return { ...(flag ? { from: flag.slice("--from=".length) } : {}), sources: words, dest };
}

/** The .dockerignore rules as a test on a context-relative path. */
export function ignoredBy(dockerignore: string): (path: string) => boolean {
  const rules = dockerignore
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}(/.*)?$`));
  return (path) => rules.some((r) => r.test(path));
}

export class StageFs {
  workdir = "/";
  readonly env: Record<string, string> = {};
  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
  }

  /** Where a path of this stage (absolute, or relative to its WORKDIR) is on this machine. */
  at(path: string): string {
    return join(this.root, isAbsolute(path) ? path : posix.join(this.workdir, path));
  }

  /** COPY's rules: a directory's contents go into `dest`; a file goes into `dest/` or becomes `dest`. */
  copyIn(from: string, dest: string): void {
    const intoDir = dest.endsWith("/") || dest === ".";
    const target = !statSync(from).isDirectory() && intoDir ? join(this.at(dest), basename(from)) : this.at(dest);
    mkdirSync(dirname(target), { recursive: true });
    cpSync(from, target, { recursive: true });
  }

  run(command: string, env: NodeJS.ProcessEnv): { status: number | null; output: string } {
    mkdirSync(this.at("."), { recursive: true });
    const res = spawnSync("sh", ["-c", command], { cwd: this.at("."), env: { ...env, ...this.env }, encoding: "utf8", maxBuffer: 64 << 20 });
    return { status: res.status, output: `${res.stdout}${res.stderr}${res.error ?? ""}` };
  }
}

export function readDockerfile(path: string): Stage[] {
  if (!existsSync(path)) throw new Error(`${path} is missing`);
  return parseDockerfile(readFileSync(path, "utf8"));
}
