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

/**
 * Reads a raw value of one kind. `refuse` records why the value is wrong, in words that
 * follow the setting's flag and variable; `name` is the setting's name.
 */
type Converter = (raw: string, refuse: (why: string) => void, name: string) => unknown;

const oneOf =
  (allowed: readonly string[], hint: string): Converter =>
  (raw, refuse) => {
    if (!allowed.includes(raw)) refuse(`is '${raw}'; use ${hint}`);
    return raw;
  };

const wholeNumber =
  (max: number): Converter =>
  (raw, refuse, name) => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n > max) refuse(`is '${raw}'; use a whole number from 0 to ${max} (${name})`);
    return n;
  };

const CONVERTERS: Readonly<Record<Kind, Converter>> = {
  string: (raw, refuse) => {
    if (raw === "") refuse("must not be empty");
    return raw;
  },
  list: (raw) => raw.split(",").map((x) => x.trim()).filter(Boolean),
  bool: (raw, refuse) => {
    if (raw !== "true" && raw !== "false") refuse(`is '${raw}'; use true or false`);
    return raw === "true";
  },
  failurePolicy: oneOf(["Fail", "Ignore"], "Fail or Ignore"),
  level: oneOf(["debug", "info", "warn", "error"], "debug, info, warn or error"),
  port: wholeNumber(65535),
  int: wholeNumber(Number.MAX_SAFE_INTEGER),
};

function convert(name: string, s: Setting, raw: string, problems: string[]): unknown {
  const where = `--${s.flag} / ${s.env}`;
  return CONVERTERS[s.kind](raw, (why) => problems.push(`${where} ${why}`), name);
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

