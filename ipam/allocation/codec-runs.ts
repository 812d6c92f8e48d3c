import type { CIDR } from "../address/cidr.js";
import { IpamError } from "../errors.js";
import { parseBig36, parseSafe36, parseSigned36 } from "./base36.js";
import { type AllocationRun, FIRST_TOKEN } from "./state.js";

const RUN = /^([0-9a-z]*)(?:\.([0-9a-z]+))?(?:~(-?[0-9a-z]+))?$/;

function corrupt(why: string): IpamError {
  return new IpamError("ALLOCATION_CORRUPT", `the pool's allocation record is corrupt: ${why}`, {});
}

/** No token may be handed out twice: sort the token intervals and look for an overlap. */
function checkTokensUnique(runs: readonly AllocationRun[]): void {
  const byToken = [...runs].sort((a, b) => a.firstToken - b.firstToken);
  for (let i = 1; i < byToken.length; i++) {
    const prev = byToken[i - 1] as AllocationRun;
    const cur = byToken[i] as AllocationRun;
    if (prev.firstToken + prev.count > cur.firstToken) throw corrupt(`token ${cur.firstToken} is used twice`);
  }
}

interface RunFields {
  gap: bigint;
  count: number;
  delta: number;
}

/**
 * The gap before a run. Only the canonical spelling is accepted, so one record has exactly
 * one text: the first run always writes its gap, the others leave out a gap of 0.
 */
function readGap(i: number, text: string): bigint | undefined {
  if (i === 0 ? text === "" : text === "0") return undefined;
  return text === "" ? 0n : parseBig36(text);
}

/** A field written only when it is not its default; undefined when unreadable or written as the default. */
function readOptional(text: string | undefined, parse: (s: string) => number | undefined, fallback: number): number | undefined {
  if (text === undefined) return fallback;
  const value = parse(text);
  return value === fallback ? undefined : value;
}

/** One entry of the runs section: `gap[.count][~delta]`. */
function readRun(entry: string, i: number): RunFields {
  const m = RUN.exec(entry);
  const gap = m === null ? undefined : readGap(i, m[1] ?? "");
  const count = readOptional(m?.[2], parseSafe36, 1);
  const delta = readOptional(m?.[3], parseSigned36, 0);
  if (gap === undefined || count === undefined || delta === undefined || count < 1) throw corrupt(`run ${i} '${entry}' is malformed`);
  return { gap, count, delta };
}

/** The runs section (see codec.ts for the grammar), checked against the subnet and tokens. */
export function decodeRuns(text: string, subnet: CIDR, nextToken: number): AllocationRun[] {
  if (text === "") return [];
  const size = subnet.last - subnet.network + 1n;
  const runs: AllocationRun[] = [];
  let nextStart = 0n;
  let expectedToken = FIRST_TOKEN;
  for (const [i, entry] of text.split(",").entries()) {
    const { gap, count, delta } = readRun(entry, i);
    const start = nextStart + gap;
    const firstToken = expectedToken + delta;
    if (start + BigInt(count) > size) throw corrupt(`run ${i} reaches past the end of the subnet`);
    if (firstToken < FIRST_TOKEN || firstToken + count > nextToken) {
      throw corrupt(`run ${i} uses tokens ${firstToken}..${firstToken + count - 1}, outside 1..${nextToken - 1}`);
    }
    runs.push({ start: subnet.network + start, count, firstToken });
    nextStart = start + BigInt(count);
    expectedToken = firstToken + count;
  }
  checkTokensUnique(runs);
  return runs;
}
