/** Annotation pool names may be shell-style globs: `*`, `?` and `[..]` (`[!..]`/`[^..]` negate). */
export function isGlob(name: string): boolean {
  return /[*?[]/.test(name);
}

function escape(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

export function globToRegExp(glob: string): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") out += ".*";
    else if (c === "?") out += ".";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close < 0) {
        out += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, close);
      const negate = body.startsWith("!") || body.startsWith("^");
      if (negate) body = body.slice(1);
      out += `[${negate ? "^" : ""}${body.replace(/[\\\]^]/g, (x) => `\\${x}`)}]`;
      i = close;
    } else out += escape(c);
  }
  return new RegExp(`^${out}$`);
}

/**
 * Expands the names a user wrote against the existing names: a plain name stays as written
 * (found or not), a glob becomes its matches in name order. The user's order is kept and a
 * name matched twice counts once, at its first place.
 */
export function expandNames(
  patterns: readonly string[],
  existing: readonly string[],
): { names: string[]; unmatchedGlobs: string[] } {
  const names: string[] = [];
  const unmatchedGlobs: string[] = [];
  const seen = new Set<string>();
  const sorted = [...existing].sort();
  for (const p of patterns) {
    const matches = isGlob(p) ? sorted.filter((n) => globToRegExp(p).test(n)) : [p];
    if (matches.length === 0) unmatchedGlobs.push(p);
    for (const m of matches) {
      if (!seen.has(m)) {
        seen.add(m);
        names.push(m);
      }
    }
  }
  return { names, unmatchedGlobs };
}
