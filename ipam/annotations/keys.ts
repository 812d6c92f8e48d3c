/** Annotation keys of the Spiderpool API (api.md), on Pods, pod templates and Namespaces. */
export const ANNOTATION_PREFIX = "ipam.spidernet.io";

export const ANNO_IPPOOL = `${ANNOTATION_PREFIX}/ippool`;
export const ANNO_IPPOOLS = `${ANNOTATION_PREFIX}/ippools`;
export const ANNO_SUBNET = `${ANNOTATION_PREFIX}/subnet`;
export const ANNO_SUBNETS = `${ANNOTATION_PREFIX}/subnets`;
export const ANNO_IPPOOL_IP_NUMBER = `${ANNOTATION_PREFIX}/ippool-ip-number`;
export const ANNO_IPPOOL_RECLAIM = `${ANNOTATION_PREFIX}/ippool-reclaim`;
export const ANNO_ROUTES = `${ANNOTATION_PREFIX}/routes`;
/** (ext) pinned addresses. */
export const ANNO_IPS = `${ANNOTATION_PREFIX}/ips`;
/** (ext) written by the webhook, read-only to users. */
export const ANNO_ASSIGNED_IPS = `${ANNOTATION_PREFIX}/assigned-ips`;

/** On a Namespace. */
export const ANNO_NS_DEFAULT_IPV4_IPPOOL = `${ANNOTATION_PREFIX}/default-ipv4-ippool`;
export const ANNO_NS_DEFAULT_IPV6_IPPOOL = `${ANNOTATION_PREFIX}/default-ipv6-ippool`;

/** Multus. */
export const ANNO_MULTUS_NETWORKS = "k8s.v1.cni.cncf.io/networks";
export const ANNO_MULTUS_DEFAULT_NETWORK = "v1.multus-cni.io/default-network";

/** The first NIC of a Pod; Multus names the others net1, net2, … unless told otherwise. */
export const FIRST_INTERFACE = "eth0";
export function defaultInterfaceName(index: number): string {
  return index === 0 ? FIRST_INTERFACE : `net${index}`;
}
