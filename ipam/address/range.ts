import { IpamError, isIpamError } from "../errors.js";
import { type Family, familyName, formatIP, parseIP } from "./ip.js";

/** An inclusive range of addresses of one family, start <= end. */
export interface IPRange {
  readonly start: bigint;
  readonly end: bigint;
}

export interface FamilyRange extends IPRange {
  readonly family: Family;
}

function rangeError(text: string, why: string, details: Record<string, unknown> = {}): IpamError {
  return new IpamError("RANGE_INVALID", `'${text}' is not a valid address or range: ${why}`, {
    value: text,
    ...details,
  });
}

function parseEnd(whole: string, part: string): { family: Family; value: bigint } {
  try {
    return parseIP(part);
  } catch (err) {
    const why = isIpamError(err) ? err.message : String(err);
    throw rangeError(whole, `${why} (expected 10.6.0.5 or 10.6.0.10-10.6.0.99)`);
  }
}

/**
 * Parses one entry of the `ips`/`excludeIPs` syntax: `10.6.0.5` or `10.6.0.10-10.6.0.99`.
 * `family`, when given, is what the surrounding pool requires.
 */
export function parseRange(text: string, family?: Family): FamilyRange {
  if (typeof text !== "string" || text.length === 0) throw rangeError(String(text), "empty entry");
  const parts = text.split("-");
  if (parts.length > 2) throw rangeError(text, "more than one '-'; write start-end");
  const [startText = "", endText] = parts;
  const start = parseEnd(text, startText);
  const end = endText === undefined ? start : parseEnd(text, endText);
  if (start.family !== end.family) {
    throw rangeError(text, "both ends must be of the same family");
  }
  if (family !== undefined && start.family !== family) {
    throw new IpamError(
      "FAMILY_MISMATCH",
      `'${text}' is ${familyName(start.family)} but this list holds ${familyName(family)} addresses`,
      { value: text, expected: family },
    );
  }
  if (start.value > end.value) {
    throw rangeError(text, `the start is above the end; write ${endText ?? ""}-${startText}`);
  }
  return { family: start.family, start: start.value, end: end.value };
}

/** `a` for a single address, `a-b` otherwise. */
export function formatRange(family: Family, range: IPRange): string {
  const start = formatIP(family, range.start);
  return range.start === range.end ? start : `${start}-${formatIP(family, range.end)}`;
}

export function rangeSize(range: IPRange): bigint {
  return range.end - range.start + 1n;
}
