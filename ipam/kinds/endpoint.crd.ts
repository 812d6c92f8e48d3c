import { bool, int, routesSchema, str, type CrdDefinition, type SameKeys, type Schema } from "./crd-common.js";
import { ENDPOINT_NODE_FIELD, type EndpointCurrent, type EndpointIP, type EndpointStatus } from "./endpoint.js";

const ipProperties = {
  interface: str("NIC name in the pod"),
  ipv4: str("IPv4 address in CIDR form"),
  ipv6: str("IPv6 address in CIDR form"),
  ipv4Pool: str("pool the IPv4 address came from"),
  ipv6Pool: str("pool the IPv6 address came from"),
  vlan: int("VLAN id", { minimum: 0, maximum: 4094 }),
  ipv4Gateway: str("IPv4 gateway"),
  ipv6Gateway: str("IPv6 gateway"),
  cleanGateway: bool("no default route through this NIC"),
  routes: routesSchema,
  ipv4Token: int("pool-local token of the IPv4 address", { minimum: 1 }),
  ipv6Token: int("pool-local token of the IPv6 address", { minimum: 1 }),
} satisfies Record<string, Schema>;

const currentProperties = {
  uid: str("the pod's uid"),
  node: str("the node the pod runs on"),
  ips: { type: "array", items: { type: "object", required: ["interface"], properties: ipProperties } },
  reservation: str("the reservation id made at Pod admission"),
  containerID: str("the sandbox that last set up the pod's network"),
  attachments: {
    type: "array",
    description: "live CNI attachments: sandbox, NIC and network",
    items: {
      type: "object",
      required: ["containerID", "interface", "network"],
      properties: { containerID: str("sandbox id"), interface: str("NIC name"), network: str("CNI network name") },
    },
  },
} satisfies Record<string, Schema>;

const statusProperties = {
  current: { type: "object", required: ["uid", "ips"], properties: currentProperties },
  ownerControllerType: str("kind of the pod's top controller"),
  ownerControllerName: str("name of the pod's top controller"),
} satisfies Record<string, Schema>;

const _ipKeys: SameKeys<typeof ipProperties, Required<EndpointIP>> = true;
const _currentKeys: SameKeys<typeof currentProperties, Required<EndpointCurrent>> = true;
const _statusKeys: SameKeys<typeof statusProperties, Required<EndpointStatus>> = true;
void _ipKeys;
void _currentKeys;
void _statusKeys;

export const endpointCrd: CrdDefinition = {
  kind: "SpiderEndpoint",
  plural: "spiderendpoints",
  singular: "spiderendpoint",
  listKind: "SpiderEndpointList",
  shortNames: ["se"],
  scope: "Namespaced",
  printerColumns: [
    { name: "INTERFACE", type: "string", jsonPath: ".status.current.ips[0].interface" },
    { name: "IPV4POOL", type: "string", jsonPath: ".status.current.ips[0].ipv4Pool" },
    { name: "IPV4", type: "string", jsonPath: ".status.current.ips[0].ipv4" },
    { name: "IPV6POOL", type: "string", jsonPath: ".status.current.ips[0].ipv6Pool" },
    { name: "IPV6", type: "string", jsonPath: ".status.current.ips[0].ipv6" },
    { name: "NODE", type: "string", jsonPath: ".status.current.node" },
  ],
  // Each agent watches only its node's endpoints: fieldSelector=status.current.node=<node>.
  selectableFields: [ENDPOINT_NODE_FIELD],
  status: { type: "object", properties: statusProperties },
  // All status and one per Pod: a status subresource would drop the record from the create
  // and cost every Pod a second write (the agents, which may write only their node's
  // endpoints, record attachments in the same object either way).
  statusSubresource: false,
};
