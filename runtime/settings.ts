import { parseArgs } from "node:util";

/**
 * Program settings from flags and environment: each setting has a flag, an environment
 * variable and a default; flags win over the environment. Parsed once, every problem
 * reported at once, the result frozen. Shared by spiderpool-controller and spiderpool-agent.
 */
export type Kind = "string" | "port" | "int" | "list" | "level" | "bool" | "failurePolicy";

export interface Setting {
  flag: string;
  env: string;
  kind: Kind;
  default?: string;
  help: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

/**
 * Reads `--name=value` / `--name value` flags with node's parseArgs, leniently, so that
 * every unknown flag, stray argument and missing value is reported, not just the first.
 */
export function parseFlags(argv: readonly string[], known: ReadonlySet<string>, problems: string[]): Map<string, string> {
  const options = Object.fromEntries([...known].map((f) => [f, { type: "string" as const }]));
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const out = new Map<string, string>();
  for (const t of tokens) {
    if (t.kind === "positional") problems.push(`unexpected argument '${t.value}' (flags look like --name=value)`);
    else if (t.kind !== "option") continue;
    else if (!known.has(t.name)) problems.push(`unknown flag --${t.name}`);
    else if (t.value === undefined) problems.push(`flag --${t.name} needs a value`);
    else out.set(t.name, t.value);
  }
  return out;
}

function convert(name: string, s: Setting, raw: string, problems: string[]): unknown {
  const where = `--${s.flag} / ${s.env}`;
  switch (s.kind) {
    case "string":
      if (raw === "") problems.push(`${where} must not be empty`);
      return raw;
    case "list":
      return raw.split(",").map((x) => x.trim()).filter(Boolean);
    case "bool":
      if (raw !== "true" && raw !== "false") problems.push(`${where} is '${raw}'; use true or false`);
      return raw === "true";
    case "failurePolicy":
      if (raw !== "Fail" && raw !== "Ignore") problems.push(`${where} is '${raw}'; use Fail or Ignore`);
      return raw;
    case "level":
      if (!["debug", "info", "warn", "error"].includes(raw)) problems.push(`${where} is '${raw}'; use debug, info, warn or error`);
      return raw;
    case "port":
    case "int": {
      const n = Number(raw);
      const max = s.kind === "port" ? 65535 : Number.MAX_SAFE_INTEGER;
      if (!/^\d+$/.test(raw) || n > max) problems.push(`${where} is '${raw}'; use a whole number from 0 to ${max} (${name})`);
      return n;
    }
  }
}

/** Raw values per setting name: flag, else environment, else default (absent when none). */
export function resolveSettings<S extends Record<string, Setting>>(settings: S, env: Readonly<Record<string, string | undefined>>, argv: readonly string[]): Record<keyof S, unknown> {
  const problems: string[] = [];
  const flags = parseFlags(argv, new Set(Object.values(settings).map((s) => s.flag)), problems);
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(settings)) {
    const raw = flags.get(s.flag) ?? env[s.env] ?? s.default;
    if (raw !== undefined) out[name] = convert(name, s, raw, problems);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as Record<keyof S, unknown>;
}

export function deepFreeze<T>(o: T): T {
  if (typeof o === "object" && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

