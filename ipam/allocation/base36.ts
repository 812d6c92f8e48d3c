/**
 * Base-36 numbers for the allocation record: lowercase digits and letters only, so they never
 * collide with the record's separators, and about 20 % shorter than decimal.
 */

const UNSIGNED = /^(0|[1-9a-z][0-9a-z]*)$/;
/** 36^10 < 2^53: ten digits always fit a safe integer. */
const MAX_SAFE_DIGITS = 10;

export function toBase36(n: number | bigint): string {
  return n.toString(36);
}

/** A non-negative safe integer in canonical form (no leading zeros), or undefined. */
export function parseSafe36(text: string): number | undefined {
  if (text.length > MAX_SAFE_DIGITS || !UNSIGNED.test(text)) return undefined;
  return parseInt(text, 36);
}

/** A signed safe integer (`-` then digits), or undefined. */
export function parseSigned36(text: string): number | undefined {
  if (text.startsWith("-")) {
    const n = parseSafe36(text.slice(1));
    return n === undefined || n === 0 ? undefined : -n;
  }
  return parseSafe36(text);
}

/** A non-negative bigint in canonical form (IPv6 offsets need up to 128 bits), or undefined. */
export function parseBig36(text: string): bigint | undefined {
  if (text.length > 25 || !UNSIGNED.test(text)) return undefined;
  let value = 0n;
  for (let i = 0; i < text.length; i += MAX_SAFE_DIGITS) {
    const chunk = text.slice(i, i + MAX_SAFE_DIGITS);
    value = value * 36n ** BigInt(chunk.length) + BigInt(parseInt(chunk, 36));
  }
  return value;
}
