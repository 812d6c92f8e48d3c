import { isDeepStrictEqual } from "node:util";
import { API_VERSION } from "./meta.js";
import { NAD_API_VERSION, NAD_KIND, type NetworkAttachmentDefinition } from "./network-attachment.js";
import {
  ANNO_NAD_CNI_VERSION,
  type CoordinatorSpec,
  DEFAULT_NAD_CNI_VERSION,
  MULTUS_CONFIG_KIND,
  type MultusConfigSpec,
  nadNameOf,
  type SpiderMultusConfig,
  type SpiderpoolPools,
  type VlanCniConfig,
} from "./multus-config.js";

type Plugin = Record<string, unknown>;

/** The SR-IOV device plugin's resource, read by Multus from the NAD's annotation. */
export const ANNO_RESOURCE_NAME = "k8s.v1.cni.cncf.io/resourceName";
/** kubectl's record of the SpiderMultusConfig itself: not the NAD's business. */
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/** The ipam stanza: Spiderpool with the section's default pools, or none when IPAM is disabled. */
function ipam(spec: MultusConfigSpec, pools: SpiderpoolPools | undefined): Plugin {
  if (spec.disableIPAM === true) return {};
  const stanza: Plugin = { type: "spiderpool" };
  if (pools?.ipv4?.length) stanza.default_ipv4_ippool = pools.ipv4;
  if (pools?.ipv6?.length) stanza.default_ipv6_ippool = pools.ipv6;
  return { ipam: stanza };
}

/**
 * macvlan/ipvlan's master: the one interface, else the bond over several; with a VLAN id, its
 * VLAN sub-interface (`eth0.100`), as Spiderpool names it. This project ships no plugin that
 * creates those links (Spiderpool's `ifacer`): they must exist on the nodes.
 */
export function masterOf(c: VlanCniConfig): string {
  const base = c.master.length === 1 ? (c.master[0] ?? "") : (c.bond?.name ?? "");
  return c.vlanID ? `${base}.${c.vlanID}` : base;
}

const defined = (o: Plugin): Plugin => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function sriovPlugins(spec: MultusConfigSpec): Plugin[] {
  const c = spec.sriov;
  if (!c) return [];
  const main = defined({ type: "sriov", vlan: c.vlanID, minTxRate: c.minTxRateMbps, maxTxRate: c.maxTxRateMbps, ...ipam(spec, c.ippools) });
  return c.enableRdma ? [main, { type: "rdma" }] : [main];
}

function ovsPlugins(spec: MultusConfigSpec): Plugin[] {
  const c = spec.ovs;
  return c ? [defined({ type: "ovs", bridge: c.bridge, vlan: c.vlan, trunk: c.trunk?.length ? c.trunk : undefined, deviceID: c.deviceID || undefined, ...ipam(spec, c.ippools) })] : [];
}

function ibSriovPlugins(spec: MultusConfigSpec): Plugin[] {
  const c = spec.ibsriov;
  return c ? [defined({ type: "ib-sriov", pkey: c.pkey, link_state: c.linkState, rdmaIsolation: c.rdmaIsolation, ibKubernetesEnabled: c.ibKubernetesEnabled, ...ipam(spec, c.ippools) })] : [];
}

/** The main plugin (and, for SR-IOV with RDMA, the rdma plugin after it), by cniType. */
const MAIN_PLUGINS: Record<MultusConfigSpec["cniType"], (spec: MultusConfigSpec) => Plugin[]> = {
  macvlan: (spec) => (spec.macvlan ? [{ type: "macvlan", master: masterOf(spec.macvlan), mode: "bridge", ...ipam(spec, spec.macvlan.ippools) }] : []),
  ipvlan: (spec) => (spec.ipvlan ? [{ type: "ipvlan", master: masterOf(spec.ipvlan), ...ipam(spec, spec.ipvlan.ippools) }] : []),
  sriov: sriovPlugins,
  "ib-sriov": ibSriovPlugins,
  ovs: ovsPlugins,
  custom: () => [],
};

/**
 * The chained coordinator entry: the coordinator section's fields under the names the
 * coordinator plugin reads (Spiderpool's: only podDefaultRouteNIC is spelt podDefaultRouteNic).
 */
export function coordinatorPlugin(c: CoordinatorSpec | undefined): Plugin {
  const { podDefaultRouteNIC, ...rest } = c ?? {};
  return defined({ type: "coordinator", ...rest, podDefaultRouteNic: podDefaultRouteNIC });
}

/** The CNI config text of the NAD, or undefined for an empty custom config. */
export function nadConfig(smc: SpiderMultusConfig, name: string): string | undefined {
  const spec = smc.spec;
  if (spec.cniType === "custom") return spec.customCNI?.trim() ? spec.customCNI : undefined;
  const plugins = MAIN_PLUGINS[spec.cniType](spec);
  if (spec.enableCoordinator !== false) plugins.push(coordinatorPlugin(spec.coordinator));
  const cniVersion = smc.metadata.annotations?.[ANNO_NAD_CNI_VERSION] ?? DEFAULT_NAD_CNI_VERSION;
  return JSON.stringify({ cniVersion, name, plugins });
}

/** Extra annotations the NAD needs for its CNI type (device-plugin resources). */
function typeAnnotations(spec: MultusConfigSpec): Record<string, string> {
  if (spec.cniType === "sriov" && spec.sriov) return { [ANNO_RESOURCE_NAME]: spec.sriov.resourceName };
  if (spec.cniType === "ib-sriov" && spec.ibsriov) return { [ANNO_RESOURCE_NAME]: spec.ibsriov.resourceName };
  if (spec.cniType === "ovs" && spec.ovs?.deviceID) return { [ANNO_RESOURCE_NAME]: `ovs-cni.network.kubevirt.io/${spec.ovs.bridge}` };
  return {};
}

/**
 * The NetworkAttachmentDefinition a SpiderMultusConfig stands for: same namespace, named by
 * `multus.spidernet.io/cr-name` or after it, carrying its annotations, owned by it (so the
 * garbage collector removes it with its owner), with the generated CNI config.
 */
export function desiredNad(smc: SpiderMultusConfig): NetworkAttachmentDefinition {
  const name = nadNameOf(smc);
  const annotations = { ...smc.metadata.annotations, ...typeAnnotations(smc.spec) };
  delete annotations[LAST_APPLIED];
  const config = nadConfig(smc, name);
  return {
    apiVersion: NAD_API_VERSION,
    kind: NAD_KIND,
    metadata: {
      name,
      namespace: smc.metadata.namespace ?? "",
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      ownerReferences: [{ apiVersion: API_VERSION, kind: MULTUS_CONFIG_KIND, name: smc.metadata.name ?? "", uid: smc.metadata.uid ?? "", controller: true, blockOwnerDeletion: true }],
    },
    spec: config === undefined ? {} : { config },
  };
}

/** Whether an existing NAD already is what `want` says (config, annotations, owner). */
export function nadUpToDate(have: NetworkAttachmentDefinition, want: NetworkAttachmentDefinition): boolean {
  const owner = want.metadata.ownerReferences?.[0];
  return (
    (have.spec?.config ?? "") === (want.spec?.config ?? "") &&
    isDeepStrictEqual(have.metadata.annotations ?? {}, want.metadata.annotations ?? {}) &&
    (have.metadata.ownerReferences ?? []).some((r) => r.uid === owner?.uid && r.controller === true)
  );
}
