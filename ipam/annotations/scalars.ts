import { AnnotationError } from "../errors.js";
import { ANNO_IPPOOL_IP_NUMBER, ANNO_IPPOOL_RECLAIM } from "./keys.js";

/** `ipam.spidernet.io/ippool-ip-number`: "N" is a fixed size, "+N" is replicas + N spares. */
export interface PoolIPNumber {
  readonly flexible: boolean;
  readonly count: number;
}

export function parsePoolIPNumber(value: string): PoolIPNumber {
  const m = /^(\+?)(0|[1-9][0-9]{0,8})$/.exec(value);
  if (m === null) {
    throw new AnnotationError(
      ANNO_IPPOOL_IP_NUMBER,
      value,
      'expected "N" (a fixed number of addresses) or "+N" (replicas plus N spares), e.g. "5" or "+2"',
    );
  }
  return { flexible: m[1] === "+", count: Number(m[2]) };
}

export function formatPoolIPNumber(n: PoolIPNumber): string {
  return `${n.flexible ? "+" : ""}${n.count}`;
}

/** The auto pool's size for an application that wants `replicas` Pods. */
export function autoPoolSize(n: PoolIPNumber, replicas: number): number {
  return n.flexible ? replicas + n.count : n.count;
}

// The spellings Go's strconv.ParseBool accepts, which is what Spiderpool users may have written.
const TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** `ipam.spidernet.io/ippool-reclaim`: true (default) deletes the auto pool with its application. */
export function parseReclaim(value: string): boolean {
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw new AnnotationError(ANNO_IPPOOL_RECLAIM, value, 'expected "true" or "false"');
}

export function formatReclaim(reclaim: boolean): string {
  return String(reclaim);
}
