import { AnnotationError } from "../errors.js";
import { interfaceNameProblem } from "./limits.js";

/**
 * Strict JSON helpers for annotation codecs: every failure is an AnnotationError that names
 * the annotation, quotes the value and says what was expected, with an example.
 */
export class AnnotationReader {
  constructor(
    readonly annotation: string,
    readonly value: string,
    readonly example: string,
  ) {}

  fail(problem: string): never {
    throw new AnnotationError(this.annotation, this.value, problem);
  }

  json(): unknown {
    try {
      return JSON.parse(this.value) as unknown;
    } catch {
      return this.fail(`not valid JSON; expected e.g. ${this.example}`);
    }
  }

  object(v: unknown, where: string, allowed: readonly string[]): Record<string, unknown> {
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      this.fail(`${where} must be a JSON object, e.g. ${this.example}`);
    }
    const obj = v as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) this.fail(`${where} has unknown field '${key}'; allowed: ${allowed.join(", ")}`);
    }
    return obj;
  }

  list(v: unknown, where: string): unknown[] {
    if (!Array.isArray(v)) this.fail(`${where} must be a JSON list, e.g. ${this.example}`);
    return v as unknown[];
  }

  string(v: unknown, where: string): string {
    if (typeof v !== "string" || v === "") this.fail(`${where} must be a non-empty string`);
    return v;
  }

  optionalString(v: unknown, where: string): string | undefined {
    return v === undefined ? undefined : this.string(v, where);
  }

  /** An interface name; "" counts as not given (Spiderpool examples write it that way). */
  optionalInterface(v: unknown, where: string): string | undefined {
    const name = v === "" ? undefined : this.optionalString(v, where);
    const problem = name === undefined ? undefined : interfaceNameProblem(name);
    if (problem !== undefined) this.fail(`${where}: ${problem}`);
    return name;
  }

  boolean(v: unknown, where: string): boolean | undefined {
    if (v !== undefined && typeof v !== "boolean") this.fail(`${where} must be true or false`);
    return v;
  }

  /** A list of pool or subnet names (globs allowed), no duplicates. */
  names(v: unknown, where: string, what: string): string[] {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((n) => typeof n !== "string")) {
      this.fail(`${where} must be a JSON list of ${what} names, e.g. ${this.example}`);
    }
    const names = v as string[];
    for (const n of names) {
      if (!NAME.test(n)) {
        this.fail(`${where} has '${n}', which is not a valid ${what} name (lowercase letters, digits, '-', '.', and globs * ? [..])`);
      }
    }
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) this.fail(`${where} names ${what} '${dup}' twice`);
    return names;
  }
}

/** A Kubernetes object name (DNS-1123 subdomain) where glob characters may stand in. */
const NAME = /^(?=.{1,253}$)[a-z0-9*?[\]!^.-]+$/;
