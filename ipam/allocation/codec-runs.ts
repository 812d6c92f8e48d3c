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

/** The runs section (see codec.ts for the grammar), checked against the subnet and tokens. */
export function decodeRuns(text: string, subnet: CIDR, nextToken: number): AllocationRun[] {
  if (text === "") return [];
  const size = subnet.last - subnet.network + 1n;
  const runs: AllocationRun[] = [];
  let nextStart = 0n;
  let expectedToken = FIRST_TOKEN;
  for (const [i, entry] of text.split(",").entries()) {
    const m = RUN.exec(entry);
    const gapText = m?.[1] ?? "";
    // Only the canonical spelling is accepted, so one record has exactly one text.
    const canonicalGap = i === 0 ? gapText !== "" : gapText !== "0";
    if (m === null || !canonicalGap) throw corrupt(`run ${i} '${entry}' is malformed`);
    const gap = gapText === "" ? 0n : parseBig36(gapText);
    const count = m[2] === undefined ? 1 : parseSafe36(m[2]);
    const delta = m[3] === undefined ? 0 : parseSigned36(m[3]);
    const redundant = (m[2] !== undefined && count === 1) || (m[3] !== undefined && delta === 0);
    if (gap === undefined || count === undefined || delta === undefined || count < 1 || redundant) {
      throw corrupt(`run ${i} '${entry}' is malformed`);
    }
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
