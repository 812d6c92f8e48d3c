import { CniError } from "../../../cni/errors.js";

/** The CNI code `fn` throws ("NOT_CNI" for another error), undefined when it returns. */
export function cniCode(fn: () => unknown): number | "NOT_CNI" | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof CniError ? err.code : "NOT_CNI";
  }
  return undefined;
}

/** The CniError `fn` throws; fails the test when it throws nothing or something else. */
export function cniError(fn: () => unknown): CniError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CniError) return err;
    throw err;
  }
  throw new Error("expected a CniError");
}

/** A network config as a runtime would pipe it, with `ipam` and top-level overrides. */
export function netconf(over: Record<string, unknown> = {}, ipam: Record<string, unknown> = {}): string {
  return JSON.stringify({ cniVersion: "1.0.0", name: "macvlan-eth0", type: "macvlan", master: "eth0", ipam: { type: "spiderpool", ...ipam }, ...over });
}

export const K8S_ARGS = "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=abc123;K8S_POD_UID=0b8e-11";
