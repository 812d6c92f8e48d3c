import { AnnotationError, isIpamError } from "../../../ipam/errors.js";

/** The IpamError code `fn` throws, "NOT_IPAM" for another error, undefined when it returns. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isIpamError(err) ? err.code : "NOT_IPAM";
  }
  return undefined;
}

/** The message of the AnnotationError `fn` throws; fails when it throws nothing or something else. */
export function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof AnnotationError) return err.message;
    throw err;
  }
  throw new Error("expected an AnnotationError");
}
