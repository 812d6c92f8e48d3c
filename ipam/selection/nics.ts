import { formatNetworkRef, type PodInterface } from "../annotations/multus.js";
import type { NetworkRef } from "../kinds/meta.js";
import type { NetworkIpam, PrimaryNetwork } from "../kinds/network-attachment.js";
import type { NicRequest } from "./types.js";

/** What is known of a Pod's networks: each looked-up network's IPAM, by `namespace/name` (absent: no such network). */
export type KnownNetworks = ReadonlyMap<string, NetworkIpam>;

export interface NicInput {
  /** The Pod's NICs, first one first; eth0 carries a network only when the Pod names one. */
  readonly interfaces: readonly PodInterface[];
  readonly primary: PrimaryNetwork;
  /** eth0's network for `multusName` pools when the primary network is "spiderpool" and has no NAD (cluster config). */
  readonly clusterDefaultNetwork?: NetworkRef;
  /** undefined: networks cannot be looked up here, so every named network counts as Spiderpool's. */
  readonly networks?: KnownNetworks;
  /** NICs the CNI plugin asked for (late allocation): Spiderpool's whatever their network says. */
  readonly forced?: readonly string[];
}

export interface SpiderpoolNics {
  /** The NICs whose IPAM is spiderpool, with their CNI config's defaults, in the Pod's order. */
  readonly nics: NicRequest[];
  /** Sentences about NICs whose network could not be judged (left to CNI time). */
  readonly undecided: string[];
}

type Verdict = { readonly serve: true; readonly ipam?: Extract<NetworkIpam, { kind: "spiderpool" }> } | { readonly serve: false; readonly why?: string };

/** The network eth0 is on, and whether it is judged by a NAD at all. */
function firstNetwork(nic: PodInterface, input: NicInput): { network?: NetworkRef; judged: boolean; serve?: boolean } {
  if (nic.network) return { network: nic.network, judged: true };
  const p = input.primary;
  if (p === "spiderpool") return { ...(input.clusterDefaultNetwork ? { network: input.clusterDefaultNetwork } : {}), judged: false, serve: true };
  if (p === "other") return { judged: false, serve: false };
  return { network: p, judged: true };
}

function judge(network: NetworkRef, iface: string, known: KnownNetworks | undefined): Verdict {
  if (known === undefined) return { serve: true };
  const ipam = known.get(formatNetworkRef(network));
  if (ipam === undefined) {
    return { serve: false, why: `${iface} is attached through ${formatNetworkRef(network)}, which is no NetworkAttachmentDefinition Spiderpool knows; its addresses, if its IPAM is spiderpool, are reserved when the pod starts` };
  }
  if (ipam.kind === "spiderpool") return { serve: true, ipam };
  if (ipam.kind === "other") return { serve: false };
  return { serve: false, why: `${iface} is attached through ${formatNetworkRef(network)}, whose IPAM Spiderpool cannot tell (${ipam.why}); its addresses, if any, are reserved when the pod starts` };
}

function request(nic: PodInterface, network: NetworkRef | undefined, v: Verdict): NicRequest {
  const ipam = v.serve ? v.ipam : undefined;
  return {
    interface: nic.interface,
    ...(network ? { network } : {}),
    ...(ipam ? { cniDefaults: ipam.defaults, cleanGateway: ipam.cleanGateway } : {}),
  };
}

/**
 * Which of a Pod's NICs are Spiderpool's: those whose network's CNI config names
 * `ipam.type: spiderpool`. eth0 is on the Pod's default-network annotation's network, else on
 * the cluster's primary network. A NIC whose network cannot be judged is left alone (and
 * said so): if it turns out to be Spiderpool's, late allocation serves it at CNI time.
 */
export function spiderpoolNics(input: NicInput): SpiderpoolNics {
  const nics: NicRequest[] = [];
  const undecided: string[] = [];
  input.interfaces.forEach((nic, i) => {
    const first = i === 0 ? firstNetwork(nic, input) : { network: nic.network, judged: true };
    const network = first.network;
    const v: Verdict = first.judged && network ? judge(network, nic.interface, input.networks) : { serve: first.serve === true };
    if (v.serve || input.forced?.includes(nic.interface)) nics.push(request(nic, network, v));
    else if (v.why !== undefined) undecided.push(v.why);
  });
  return { nics, undecided };
}

/** The networks whose NetworkAttachmentDefinitions must be looked up to judge the Pod's NICs. */
export function networksToLookUp(interfaces: readonly PodInterface[], primary: PrimaryNetwork): NetworkRef[] {
  const refs = interfaces.flatMap((n, i) => (n.network ? [n.network] : i === 0 && typeof primary === "object" ? [primary] : []));
  const seen = new Set<string>();
  return refs.filter((r) => !seen.has(formatNetworkRef(r)) && seen.add(formatNetworkRef(r)));
}
