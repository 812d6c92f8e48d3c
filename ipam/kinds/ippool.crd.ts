import { ADDRESS_COLUMNS, addressSpecProperties, bool, int, labelSelectorSchema, str, strList, type CrdDefinition, type SameKeys, type Schema } from "./crd-common.js";
import type { IPPoolSpec, IPPoolStatus } from "./ippool.js";

const specProperties = {
  ...addressSpecProperties("pool"),
  podAffinity: labelSelectorSchema("only pods with matching labels may use the pool"),
  namespaceAffinity: labelSelectorSchema("only pods in matching namespaces may use the pool"),
  namespaceName: strList("only pods in these namespaces (replaces namespaceAffinity when non-empty)"),
  nodeAffinity: labelSelectorSchema("only pods on matching nodes may use the pool"),
  nodeName: strList("only pods on these nodes (replaces nodeAffinity when non-empty)"),
  multusName: strList("only NICs attached through these NetworkAttachmentDefinitions (ns/name)"),
  default: bool("a cluster default pool"),
  disable: bool("allocate nothing new from this pool"),
  vlan: int("VLAN id passed through to CNI results", { minimum: 0, maximum: 4094 }),
} satisfies Record<string, Schema>;

const statusProperties = {
  allocatedIPCount: int("addresses held by pods or reservations", { minimum: 0 }),
  totalIPCount: int("|ips - excludeIPs|", { minimum: 0 }),
  allocations: str("who holds which address, in this project's compact format"),
} satisfies Record<string, Schema>;

const _specKeys: SameKeys<typeof specProperties, Required<IPPoolSpec>> = true;
const _statusKeys: SameKeys<typeof statusProperties, Required<IPPoolStatus>> = true;
void _specKeys;
void _statusKeys;

export const ippoolCrd: CrdDefinition = {
  kind: "SpiderIPPool",
  plural: "spiderippools",
  singular: "spiderippool",
  listKind: "SpiderIPPoolList",
  shortNames: ["sp"],
  scope: "Cluster",
  printerColumns: [
    ...ADDRESS_COLUMNS,
    { name: "DEFAULT", type: "boolean", jsonPath: ".spec.default" },
    { name: "DISABLE", type: "boolean", jsonPath: ".spec.disable" },
  ],
  spec: { type: "object", required: ["subnet"], properties: specProperties },
  status: { type: "object", properties: statusProperties },
};
