import { immutable, ipVersionSchema, strList, type CrdDefinition, type SameKeys, type Schema } from "./crd-common.js";
import type { ReservedIPSpec } from "./reservedip.js";

const specProperties = {
  ipVersion: ipVersionSchema({ "x-kubernetes-validations": immutable("spec.ipVersion") }),
  ips: strList("addresses or inclusive ranges that no pool may hand out"),
} satisfies Record<string, Schema>;

const _specKeys: SameKeys<typeof specProperties, Required<ReservedIPSpec>> = true;
void _specKeys;

export const reservedIPCrd: CrdDefinition = {
  kind: "SpiderReservedIP",
  plural: "spiderreservedips",
  singular: "spiderreservedip",
  listKind: "SpiderReservedIPList",
  shortNames: ["sr"],
  scope: "Cluster",
  printerColumns: [{ name: "VERSION", type: "integer", jsonPath: ".spec.ipVersion" }],
  spec: { type: "object", properties: specProperties },
};
