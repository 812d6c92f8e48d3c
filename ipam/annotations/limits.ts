import { AnnotationError, IpamError } from "../errors.js";
import { ANNOTATION_PREFIX, ANNO_MULTUS_DEFAULT_NETWORK, ANNO_MULTUS_NETWORKS } from "./keys.js";

/**
 * Limits on what one Pod may ask for, checked before anything is read or reserved, so that a
 * Pod past them is refused with the limit named and takes nothing.
 */

/** Linux's IFNAMSIZ is 16 bytes with the terminating NUL. */
export const MAX_INTERFACE_NAME_BYTES = 15;
/** NICs per Pod unless the controller's setting says otherwise. */
export const DEFAULT_MAX_NICS = 16;
/** Kubernetes refuses a Pod whose annotations together pass 256 KiB; refusing first keeps a reservation from outliving the Pod's refusal. */
export const MAX_TOTAL_ANNOTATION_BYTES = 256 * 1024;
/** Any one annotation Spiderpool or Multus reads: far beyond what 16 NICs with many pools need. */
export const MAX_READ_ANNOTATION_BYTES = 32 * 1024;

const bytes = (s: string): number => Buffer.byteLength(s, "utf8");

/** Why `name` cannot be a Linux interface name, or undefined when it can. */
export function interfaceNameProblem(name: string): string | undefined {
  const n = bytes(name);
  if (n > MAX_INTERFACE_NAME_BYTES) return `interface name '${name}' is ${n} bytes; Linux allows at most ${MAX_INTERFACE_NAME_BYTES}`;
  if (name === "." || name === "..") return `'${name}' is not an interface name`;
  if (/[/:\s]/.test(name)) return `interface name '${name}' has a '/', ':' or white space, which Linux does not allow`;
  return undefined;
}

/** Throws AnnotationError naming the annotation when `name` cannot be an interface name. */
export function checkInterfaceName(annotation: string, value: string, name: string): void {
  const problem = interfaceNameProblem(name);
  if (problem !== undefined) throw new AnnotationError(annotation, value.length > 200 ? `${value.slice(0, 200)}…` : value, problem);
}

const isRead = (key: string): boolean => key.startsWith(`${ANNOTATION_PREFIX}/`) || key === ANNO_MULTUS_NETWORKS || key === ANNO_MULTUS_DEFAULT_NETWORK;

/** Refuses a Pod whose annotations are larger than Kubernetes allows, or one Spiderpool reads larger than its limit. */
export function checkAnnotationSizes(annotations: Readonly<Record<string, string>>): void {
  let total = 0;
  for (const [key, value] of Object.entries(annotations)) {
    if (typeof value !== "string") throw new AnnotationError(key, JSON.stringify(value) ?? String(value), "annotation values are strings");
    const size = bytes(key) + bytes(value);
    total += size;
    if (isRead(key) && size > MAX_READ_ANNOTATION_BYTES) {
      throw new IpamError("POD_LIMIT_EXCEEDED", `annotation ${key} is ${size} bytes; Spiderpool reads at most ${MAX_READ_ANNOTATION_BYTES} bytes of one annotation: shorten it`, {
        annotation: key,
        bytes: size,
        limit: MAX_READ_ANNOTATION_BYTES,
      });
    }
  }
  if (total > MAX_TOTAL_ANNOTATION_BYTES) {
    throw new IpamError("POD_LIMIT_EXCEEDED", `the pod's annotations are ${total} bytes together; Kubernetes allows at most ${MAX_TOTAL_ANNOTATION_BYTES}: remove some`, {
      bytes: total,
      limit: MAX_TOTAL_ANNOTATION_BYTES,
    });
  }
}

/** Refuses a Pod with more NICs than `max`. */
export function checkNicCount(count: number, max: number): void {
  if (count <= max) return;
  throw new IpamError("POD_LIMIT_EXCEEDED", `the pod asks for ${count} network interfaces; this cluster allows at most ${max} per pod (setting --max-nics-per-pod): attach fewer networks`, {
    interfaces: count,
    limit: max,
  });
}
