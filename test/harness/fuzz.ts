/**
 * Sizes of the fuzz suites (fast-check): a few hundred cases per surface in the default
 * suite, thousands in the full run (`SPIDERPOOL_FUZZ_RUNS=3000`, docs/reliability.md).
 * `SPIDERPOOL_FUZZ_SEED` replays a run that failed (fast-check prints the seed and path).
 */
export function fuzzRuns(ciSize: number): number {
  const asked = Number(process.env.SPIDERPOOL_FUZZ_RUNS ?? "");
  return Number.isInteger(asked) && asked > 0 ? asked : ciSize;
}

export function fuzzParameters(ciSize: number): { numRuns: number; seed?: number; endOnFailure: true } {
  const seed = Number(process.env.SPIDERPOOL_FUZZ_SEED ?? "");
  return { numRuns: fuzzRuns(ciSize), ...(Number.isInteger(seed) && process.env.SPIDERPOOL_FUZZ_SEED ? { seed } : {}), endOnFailure: true };
}

/** Every key name in a JSON value (objects inside arrays too), for "the refusal names the field". */
export function keyNames(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) keyNames(v, out);
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.add(k);
      keyNames(v, out);
    }
  }
  return out;
}
