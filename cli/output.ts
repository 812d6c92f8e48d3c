import yaml from "js-yaml";

/** Where a command writes, and how: colours only on a terminal, a format chosen with -o. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Reads one answer line from the user (the release confirmation); undefined when no terminal asks. */
  ask?: (question: string) => Promise<string>;
  /** Colours and bars in colour: true on a terminal unless NO_COLOR is set or --no-color given. */
  color: boolean;
}

export type Format = "text" | "json" | "yaml";

export function parseFormat(value: string | undefined): Format {
  if (value === undefined || value === "text" || value === "wide") return "text";
  if (value === "json" || value === "yaml") return value;
  throw new UsageError(`-o ${value} is not a format: use -o json or -o yaml (or nothing, for text)`);
}

/** A command line the CLI cannot run: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** bigint values (addresses, offsets) are written as decimal strings. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))) as unknown;
}

/** Writes `data` as JSON or YAML; returns false for text, which the command writes itself. */
export function writeStructured(io: Io, format: Format, data: unknown): boolean {
  if (format === "json") io.out(`${JSON.stringify(plain(data), null, 2)}\n`);
  else if (format === "yaml") io.out(yaml.dump(plain(data), { noRefs: true, lineWidth: 120 }));
  return format !== "text";
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, bold: 1, dim: 2 } as const;
export type Style = keyof typeof CODES;

export function paint(io: Pick<Io, "color">, style: Style, text: string): string {
  return io.color ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text;
}

/** Green below 70 %, yellow below 90 %, red from 90 % (the chart's alert fires above 90 %). */
export function levelStyle(fraction: number): Style {
  return fraction >= 0.9 ? "red" : fraction >= 0.7 ? "yellow" : "green";
}

/** A bar of `width` cells for `used` of `total`, e.g. [#####---------------]. */
export function bar(io: Pick<Io, "color">, used: number, total: number, width = 20): string {
  const fraction = total > 0 ? Math.min(1, used / total) : 0;
  const filled = Math.round(fraction * width);
  const body = `${"#".repeat(filled)}${"-".repeat(width - filled)}`;
  return `[${paint(io, levelStyle(fraction), body)}]`;
}

export function percent(used: number, total: number): string {
  return total > 0 ? `${((100 * used) / total).toFixed(1)}%` : "-";
}

// eslint's no-control-regex forbids the escape in a literal; built from its code instead.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** Columns padded to their widest cell (colour codes do not count), two spaces apart. */
export function table(rows: readonly (readonly string[])[]): string {
  const width = (s: string): number => s.replace(ANSI, "").length;
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, width(c))));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + " ".repeat((widths[i] ?? 0) - width(c)))).join("  ").trimEnd()).join("\n") + "\n";
}
