/**
 * Typed errors of the core. Adapters map `code` once at each boundary (AdmissionReview
 * status, CNI error JSON, Events); messages are whole sentences a user can act on and never
 * depend on a stack. docs/errors.md has one row per code (a unit test keeps them in step).
 */
export const ERROR_CODES = [
  "ANNOTATION_INVALID",
  "POOL_NOT_FOUND",
  "SUBNET_NOT_FOUND",
  "POOL_INVALID",
  "POOL_EXHAUSTED",
  "NO_CANDIDATE_POOL",
  "POOL_NOT_ALLOWED",
  "IP_NOT_IN_POOL",
  "IP_IN_USE",
  "IP_RESERVED",
  "IP_EXCLUDED",
  "IP_INVALID",
  "RANGE_INVALID",
  "CIDR_INVALID",
  "FAMILY_MISMATCH",
  "RESERVATION_CONFLICT",
  "ALLOCATION_CORRUPT",
  "POD_LIMIT_EXCEEDED",
  "POOL_TOO_LARGE",
] as const;

export type IpamErrorCode = (typeof ERROR_CODES)[number];

export type ErrorDetails = Readonly<Record<string, unknown>>;

export class IpamError extends Error {
  readonly code: IpamErrorCode;
  readonly details: ErrorDetails;

  constructor(code: IpamErrorCode, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = "IpamError";
    this.code = code;
    this.details = details;
  }
}

/** A bad `ipam.spidernet.io/*` (or Multus) annotation value: names the key, the value and what was expected. */
export class AnnotationError extends IpamError {
  readonly annotation: string;
  readonly value: string;

  constructor(annotation: string, value: string, problem: string, details: ErrorDetails = {}) {
    super("ANNOTATION_INVALID", `annotation ${annotation} has value '${value}': ${problem}`, {
      annotation,
      value,
      problem,
      ...details,
    });
    this.name = "AnnotationError";
    this.annotation = annotation;
    this.value = value;
  }
}

export function isIpamError(err: unknown, code?: IpamErrorCode): err is IpamError {
  return err instanceof IpamError && (code === undefined || err.code === code);
}
