import { ADDRESS_COLUMNS, addressSpecProperties, int, str, strList, type CrdDefinition, type SameKeys, type Schema } from "./crd-common.js";
import type { SubnetSpec, SubnetStatus } from "./subnet.js";

const specProperties = {
  ...addressSpecProperties("subnet"),
  vlan: int("VLAN id inherited by the pools", { minimum: 0, maximum: 4094 }),
} satisfies Record<string, Schema>;

const statusProperties = {
  controlledIPPools: {
    type: "object",
    description: "pool name -> the subnet's addresses it holds and, for auto pools, its application",
    additionalProperties: {
      type: "object",
      required: ["ips"],
      properties: {
        ips: strList("addresses or ranges"),
        application: str("kind/namespace/name of an auto pool's application"),
        reservedAt: str("when an automatic pool's addresses were set aside"),
      },
    },
  },
  allocatedIPCount: int("addresses handed to pools", { minimum: 0 }),
  totalIPCount: int("|ips - excludeIPs|", { minimum: 0 }),
} satisfies Record<string, Schema>;

const _specKeys: SameKeys<typeof specProperties, Required<SubnetSpec>> = true;
const _statusKeys: SameKeys<typeof statusProperties, Required<SubnetStatus>> = true;
void _specKeys;
void _statusKeys;

export const subnetCrd: CrdDefinition = {
  kind: "SpiderSubnet",
  plural: "spidersubnets",
  singular: "spidersubnet",
  listKind: "SpiderSubnetList",
  shortNames: ["ss"],
  scope: "Cluster",
  printerColumns: ADDRESS_COLUMNS,
  spec: { type: "object", required: ["subnet"], properties: specProperties },
  status: { type: "object", properties: statusProperties },
};
