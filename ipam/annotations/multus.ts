import { AnnotationError } from "../errors.js";
import type { NetworkRef } from "../kinds/meta.js";
import { ANNO_MULTUS_DEFAULT_NETWORK, ANNO_MULTUS_NETWORKS, FIRST_INTERFACE, defaultInterfaceName } from "./keys.js";
import { interfaceNameProblem } from "./limits.js";


/** One Pod NIC and the Multus network it comes from (absent: the cluster default network, unknown). */
export interface PodInterface {
  readonly interface: string;
  readonly network?: NetworkRef;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function formatNetworkRef(n: NetworkRef): string {
  return `${n.namespace}/${n.name}`;
}

interface Selection {
  namespace: string;
  name: string;
  interface?: string;
}

function fail(key: string, value: string, problem: string): never {
  throw new AnnotationError(key, value, problem);
}

/** `ns/name@ifname`, `name@ifname`, `ns/name` or `name`, as Multus reads it. */
function parseShort(key: string, value: string, item: string, podNamespace: string): Selection {
  const at = item.split("@");
  if (at.length > 2) fail(key, value, `'${item}' has more than one '@'`);
  const [ref = "", nic] = at;
  const slash = ref.split("/");
  if (slash.length > 2) fail(key, value, `'${item}' has more than one '/'; expected namespace/name@interface`);
  const [namespace, name] = slash.length === 2 ? (slash as [string, string]) : [podNamespace, slash[0] ?? ""];
  check(key, value, item, namespace, name);
  if (nic !== undefined && nic === "") fail(key, value, `'${item}' has an empty interface name after '@'`);
  checkNic(key, value, nic);
  return { namespace, name, interface: nic };
}

function checkNic(key: string, value: string, nic: string | undefined): void {
  const problem = nic === undefined ? undefined : interfaceNameProblem(nic);
  if (problem !== undefined) fail(key, value, problem);
}

function check(key: string, value: string, item: string, namespace: string, name: string): void {
  if (!DNS_LABEL.test(namespace)) fail(key, value, `'${item}': '${namespace}' is not a valid namespace name`);
  if (!DNS_SUBDOMAIN.test(name)) fail(key, value, `'${item}': '${name}' is not a valid network name`);
}

/** The JSON form: a list of {name, namespace?, interface?, …} (Multus' other fields are allowed and ignored). */
function parseJSONList(key: string, value: string, podNamespace: string): Selection[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return fail(key, value, 'not valid JSON; expected e.g. [{"name":"macvlan","namespace":"kube-system","interface":"net1"}]');
  }
  if (!Array.isArray(parsed)) fail(key, value, "the JSON form must be a list of network selections");
  return (parsed as unknown[]).map((e, i) => {
    if (e === null || typeof e !== "object" || Array.isArray(e)) fail(key, value, `entry ${i} must be an object`);
    const o = e as Record<string, unknown>;
    for (const f of ["name", "namespace", "interface"]) {
      if (o[f] !== undefined && typeof o[f] !== "string") fail(key, value, `entry ${i} field ${f} must be a string`);
    }
    const name = (o.name as string | undefined) ?? "";
    const namespace = (o.namespace as string | undefined) || podNamespace;
    check(key, value, `entry ${i}`, namespace, name);
    const nic = (o.interface as string | undefined) || undefined;
    checkNic(key, value, nic);
    return { namespace, name, interface: nic };
  });
}

function parseSelections(key: string, value: string, podNamespace: string): Selection[] {
  const trimmed = value.trim();
  if (trimmed === "") return [];
  // Multus treats any of these characters as the start of the JSON form.
  if (/[[{"]/.test(trimmed)) return parseJSONList(key, trimmed, podNamespace);
  return trimmed.split(",").map((item) => parseShort(key, value, item.trim(), podNamespace));
}

/**
 * `k8s.v1.cni.cncf.io/networks`: the secondary NICs, named as Multus names them (the given
 * interface, else net1, net2, … by position).
 */
export function parseNetworksAnnotation(value: string, podNamespace: string): PodInterface[] {
  const out = parseSelections(ANNO_MULTUS_NETWORKS, value, podNamespace).map((s, i) => ({
    interface: s.interface ?? defaultInterfaceName(i + 1),
    network: { namespace: s.namespace, name: s.name },
  }));
  const names = out.map((n) => n.interface);
  const dup = names.find((n, i) => names.indexOf(n) !== i || n === FIRST_INTERFACE);
  if (dup !== undefined) fail(ANNO_MULTUS_NETWORKS, value, `interface ${dup} is used twice (eth0 is the first NIC)`);
  return out;
}

/** `v1.multus-cni.io/default-network`: the network of the first NIC. */
export function parseDefaultNetworkAnnotation(value: string, podNamespace: string): NetworkRef {
  const list = parseSelections(ANNO_MULTUS_DEFAULT_NETWORK, value, podNamespace);
  const first = list[0];
  const key = ANNO_MULTUS_DEFAULT_NETWORK;
  if (list.length !== 1 || first === undefined) fail(key, value, "expected exactly one network, e.g. kube-system/macvlan");
  if (first.interface !== undefined) {
    fail(key, value, `the default network is always ${FIRST_INTERFACE}; drop '@${first.interface}'`);
  }
  return { namespace: first.namespace, name: first.name };
}

/**
 * The Pod's NICs: eth0 (on the default-network annotation's network, else on the cluster
 * default network given by the caller, which may be unknown), then the Multus secondaries.
 */
export function podInterfaces(
  annotations: Readonly<Record<string, string>> | undefined,
  podNamespace: string,
  clusterDefaultNetwork?: NetworkRef,
): PodInterface[] {
  const a = annotations ?? {};
  const defaultNet = a[ANNO_MULTUS_DEFAULT_NETWORK];
  const network = defaultNet === undefined ? clusterDefaultNetwork : parseDefaultNetworkAnnotation(defaultNet, podNamespace);
  const first: PodInterface = network === undefined ? { interface: FIRST_INTERFACE } : { interface: FIRST_INTERFACE, network };
  const secondaries = a[ANNO_MULTUS_NETWORKS];
  return [first, ...(secondaries === undefined ? [] : parseNetworksAnnotation(secondaries, podNamespace))];
}
