import { parseCIDR } from "../address/cidr.js";
import { interfaceNameProblem } from "../annotations/limits.js";
import {
  ANNO_NAD_CNI_VERSION,
  ANNO_NAD_NAME,
  CNI_TYPES,
  type CoordinatorSpec,
  type MultusConfigSpec,
  NAD_CNI_VERSIONS,
  type OvsCniConfig,
  type SpiderMultusConfig,
  type SpiderpoolPools,
  type SriovCniConfig,
  type VlanCniConfig,
} from "./multus-config.js";
import { masterOf } from "./multus-config-nad.js";
import type { Violation } from "./spec-rules.js";

/** The per-type sections of the spec, by cniType. */
const SECTIONS = { macvlan: "macvlan", ipvlan: "ipvlan", sriov: "sriov", ovs: "ovs", "ib-sriov": "ibsriov", custom: "customCNI" } as const;
type Section = (typeof SECTIONS)[keyof typeof SECTIONS];

const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A pool name, globs allowed as in the pool annotations. */
const POOL_NAME = /^(?=.{1,253}$)[a-z0-9*?[\]!^.-]+$/;

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);

function inRange(field: string, v: number | undefined, min: number, max: number, out: Violation[]): void {
  if (v !== undefined && (!isInt(v) || v < min || v > max)) out.push({ field, message: `${field} is ${v}; use a whole number from ${min} to ${max}` });
}

function checkPools(field: string, pools: SpiderpoolPools | undefined, out: Violation[]): void {
  for (const fam of ["ipv4", "ipv6"] as const) {
    for (const n of pools?.[fam] ?? []) {
      if (!POOL_NAME.test(n)) out.push({ field: `${field}.${fam}`, message: `${field}.${fam} has '${n}', which is not a pool name` });
    }
  }
}

function checkVlan(field: string, c: VlanCniConfig, out: Violation[]): void {
  const before = out.length;
  if (!Array.isArray(c.master) || c.master.length === 0) {
    out.push({ field: `${field}.master`, message: `${field}.master is empty; name the node interface the NICs hang off, e.g. ["eth1"]` });
    return;
  }
  for (const m of c.master) {
    const problem = interfaceNameProblem(m);
    if (problem !== undefined) out.push({ field: `${field}.master`, message: `${field}.master: ${problem}` });
  }
  inRange(`${field}.vlanID`, c.vlanID, 0, 4094, out);
  if (c.master.length > 1 && !c.bond?.name) out.push({ field: `${field}.bond`, message: `${field}.master names ${c.master.length} interfaces, so ${field}.bond.name must name the bond over them` });
  if (c.bond) {
    inRange(`${field}.bond.mode`, c.bond.mode, 0, 6, out);
    if (c.bond.name && interfaceNameProblem(c.bond.name)) out.push({ field: `${field}.bond.name`, message: `${field}.bond.name: ${interfaceNameProblem(c.bond.name) ?? ""}` });
  }
  const master = masterOf(c);
  // The VLAN interface's name, once its parts are good.
  const problem = out.length === before ? interfaceNameProblem(master) : undefined;
  if (problem !== undefined) out.push({ field: `${field}.vlanID`, message: `the VLAN interface ${master}: ${problem}; use a shorter master or bond name` });
  checkPools(`${field}.ippools`, c.ippools, out);
}

function checkSriov(field: string, c: SriovCniConfig, out: Violation[]): void {
  if (!c.resourceName) out.push({ field: `${field}.resourceName`, message: `${field}.resourceName is required: the SR-IOV device plugin's resource, e.g. spidernet.io/sriov_netdevice` });
  inRange(`${field}.vlanID`, c.vlanID, 0, 4094, out);
  inRange(`${field}.minTxRateMbps`, c.minTxRateMbps, 0, Number.MAX_SAFE_INTEGER, out);
  inRange(`${field}.maxTxRateMbps`, c.maxTxRateMbps, 0, Number.MAX_SAFE_INTEGER, out);
  if (c.minTxRateMbps !== undefined && c.maxTxRateMbps !== undefined && c.maxTxRateMbps > 0 && c.minTxRateMbps > c.maxTxRateMbps) {
    out.push({ field: `${field}.minTxRateMbps`, message: `${field}.minTxRateMbps (${c.minTxRateMbps}) is above maxTxRateMbps (${c.maxTxRateMbps})` });
  }
  checkPools(`${field}.ippools`, c.ippools, out);
}

function checkOvs(field: string, c: OvsCniConfig, out: Violation[]): void {
  if (!c.bridge) out.push({ field: `${field}.bridge`, message: `${field}.bridge is required: the OVS bridge the NICs join` });
  inRange(`${field}.vlan`, c.vlan, 0, 4094, out);
  (c.trunk ?? []).forEach((t, i) => {
    for (const k of ["minID", "maxID", "id"] as const) inRange(`${field}.trunk[${i}].${k}`, t[k], 0, 4094, out);
    if (t.minID !== undefined && t.maxID !== undefined && t.minID > t.maxID) out.push({ field: `${field}.trunk[${i}]`, message: `${field}.trunk[${i}] has minID ${t.minID} above maxID ${t.maxID}` });
  });
  checkPools(`${field}.ippools`, c.ippools, out);
}

function checkCustom(spec: MultusConfigSpec, out: Violation[]): void {
  const text = spec.customCNI ?? "";
  if (text.trim() === "") return;
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
  } catch {
    out.push({ field: "spec.customCNI", message: "spec.customCNI is not a JSON object; write the whole CNI network config (or list) as JSON" });
  }
}

/** The section cniType needs, and no other. */
function checkSections(spec: MultusConfigSpec, out: Violation[]): void {
  const wanted: Section = SECTIONS[spec.cniType];
  const present = (Object.values(SECTIONS) as Section[]).filter((s) => spec[s] !== undefined);
  for (const s of present) if (s !== wanted) out.push({ field: `spec.${s}`, message: `cniType ${spec.cniType} takes only spec.${wanted}; remove spec.${s}` });
  if (spec.cniType !== "custom" && spec[wanted] === undefined) out.push({ field: `spec.${wanted}`, message: `cniType ${spec.cniType} needs spec.${wanted}` });
}

const MODES = ["auto", "underlay", "overlay", "disabled"];
const POD_CIDR_TYPES = ["auto", "cluster", "calico", "cilium", "none"];

function checkCoordinator(c: CoordinatorSpec | undefined, out: Violation[]): void {
  if (!c) return;
  const f = "spec.coordinator";
  if (c.mode !== undefined && !MODES.includes(c.mode)) out.push({ field: `${f}.mode`, message: `${f}.mode is '${c.mode}'; use ${MODES.join(", ")}` });
  if (c.podCIDRType !== undefined && !POD_CIDR_TYPES.includes(c.podCIDRType)) out.push({ field: `${f}.podCIDRType`, message: `${f}.podCIDRType is '${c.podCIDRType}'; use ${POD_CIDR_TYPES.join(", ")}` });
  for (const cidr of c.hijackCIDR ?? []) {
    try {
      parseCIDR(cidr);
    } catch (err) {
      out.push({ field: `${f}.hijackCIDR`, message: `${f}.hijackCIDR: ${(err as Error).message}` });
    }
  }
  const prefix = c.podMACPrefix;
  if (prefix && (!/^[0-9a-f]{2}:[0-9a-f]{2}$/i.test(prefix) || (parseInt(prefix.slice(0, 2), 16) & 1) === 1)) {
    out.push({ field: `${f}.podMACPrefix`, message: `${f}.podMACPrefix is '${prefix}'; use two bytes of a unicast MAC (lowest bit of the first byte 0), e.g. 0a:1b` });
  }
  if (c.podDefaultRouteNIC && interfaceNameProblem(c.podDefaultRouteNIC)) out.push({ field: `${f}.podDefaultRouteNIC`, message: `${f}.podDefaultRouteNIC: ${interfaceNameProblem(c.podDefaultRouteNIC) ?? ""}` });
  inRange(`${f}.hostRuleTable`, c.hostRuleTable, 1, 2 ** 31 - 1, out);
  inRange(`${f}.txQueueLen`, c.txQueueLen, 0, 2 ** 31 - 1, out);
}

function checkAnnotations(smc: SpiderMultusConfig, old: SpiderMultusConfig | undefined, out: Violation[]): void {
  const a = smc.metadata.annotations ?? {};
  const name = a[ANNO_NAD_NAME];
  if (name !== undefined && !DNS_SUBDOMAIN.test(name)) out.push({ field: `metadata.annotations.${ANNO_NAD_NAME}`, message: `annotation ${ANNO_NAD_NAME} is '${name}', which is not a valid object name (lowercase DNS subdomain, at most 253 characters)` });
  const version = a[ANNO_NAD_CNI_VERSION];
  if (version !== undefined && !(NAD_CNI_VERSIONS as readonly string[]).includes(version)) out.push({ field: `metadata.annotations.${ANNO_NAD_CNI_VERSION}`, message: `annotation ${ANNO_NAD_CNI_VERSION} is '${version}'; use one of ${NAD_CNI_VERSIONS.join(", ")}` });
  const before = old?.metadata.annotations?.[ANNO_NAD_NAME];
  if (old && before !== name) {
    out.push({ field: `metadata.annotations.${ANNO_NAD_NAME}`, message: `annotation ${ANNO_NAD_NAME} cannot change (from '${before ?? old.metadata.name ?? ""}' to '${name ?? smc.metadata.name ?? ""}'); delete and re-create the SpiderMultusConfig to rename its NetworkAttachmentDefinition` });
  }
}

/** The admission rules of a SpiderMultusConfig (Spiderpool's, each with what to change). */
export function validateMultusConfig(smc: SpiderMultusConfig, old?: SpiderMultusConfig): Violation[] {
  const out: Violation[] = [];
  const spec = smc.spec ?? ({} as MultusConfigSpec);
  checkAnnotations(smc, old, out);
  if (!(CNI_TYPES as readonly string[]).includes(spec.cniType)) {
    out.push({ field: "spec.cniType", message: `spec.cniType is '${String(spec.cniType)}'; use one of ${CNI_TYPES.join(", ")}` });
    return out;
  }
  checkSections(spec, out);
  if (spec.macvlan) checkVlan("spec.macvlan", spec.macvlan, out);
  if (spec.ipvlan) checkVlan("spec.ipvlan", spec.ipvlan, out);
  if (spec.sriov) checkSriov("spec.sriov", spec.sriov, out);
  if (spec.ibsriov && !spec.ibsriov.resourceName) out.push({ field: "spec.ibsriov.resourceName", message: "spec.ibsriov.resourceName is required: the device plugin's resource" });
  if (spec.ovs) checkOvs("spec.ovs", spec.ovs, out);
  if (spec.cniType === "custom") checkCustom(spec, out);
  checkCoordinator(spec.coordinator, out);
  return out;
}

/** Spiderpool's defaults: the coordinator chained, Spiderpool as IPAM. */
export function defaultMultusConfig(smc: SpiderMultusConfig): SpiderMultusConfig {
  return { ...smc, spec: { ...smc.spec, enableCoordinator: smc.spec?.enableCoordinator ?? true, disableIPAM: smc.spec?.disableIPAM ?? false } };
}

/** The default pools of whichever section the spec has. */
function sectionPools(spec: MultusConfigSpec): SpiderpoolPools | undefined {
  return [spec.macvlan, spec.ipvlan, spec.sriov, spec.ovs, spec.ibsriov].find((c) => c !== undefined)?.ippools;
}

/** What admits but deserves a word: links this project cannot create, pools that will never be read. */
export function multusConfigWarnings(smc: SpiderMultusConfig): string[] {
  const out: string[] = [];
  for (const c of [smc.spec.macvlan, smc.spec.ipvlan]) {
    if (c && (c.vlanID || c.master.length > 1)) {
      out.push(`the NetworkAttachmentDefinition uses master ${masterOf(c)}, which must exist on every node: this project ships no plugin that creates VLAN or bond interfaces (Spiderpool's ifacer)`);
    }
  }
  const pools = sectionPools(smc.spec);
  const named = (pools?.ipv4?.length ?? 0) + (pools?.ipv6?.length ?? 0);
  if (smc.spec.disableIPAM === true && named > 0) out.push("disableIPAM is true, so the ippools given are not written into the NetworkAttachmentDefinition");
  return out;
}
