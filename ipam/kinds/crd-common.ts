/**
 * Building blocks of the CRD definitions in the *.crd.ts modules. crds/*.yaml are
 * generated from those modules (npm run gen:crds) and a unit test keeps them in step.
 */
export type Schema = {
  type?: "object" | "array" | "string" | "integer" | "boolean";
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: (string | number)[];
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  default?: unknown;
  additionalProperties?: Schema | boolean;
  "x-kubernetes-validations"?: { rule: string; message: string }[];
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-preserve-unknown-fields"?: boolean;
};

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "boolean" | "date" | "number";
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface CrdDefinition {
  kind: string;
  plural: string;
  singular: string;
  listKind: string;
  shortNames: string[];
  scope: "Cluster" | "Namespaced";
  printerColumns: PrinterColumn[];
  /** Fields (JSON paths, not under metadata) a field selector may name: Kubernetes 1.31+ serves them. */
  selectableFields?: string[];
  /** The openAPIV3Schema of the whole object (apiVersion/kind/metadata are added). */
  spec?: Schema;
  status?: Schema;
  /**
   * Whether `status` is a subresource (the default): written apart from the rest, and
   * dropped from a create. false for a kind that is all status, written whole in one request.
   */
  statusSubresource?: false;
}

export const str = (description: string, extra: Partial<Schema> = {}): Schema => ({ type: "string", description, ...extra });
export const strList = (description: string, extra: Partial<Schema> = {}): Schema => ({
  type: "array",
  description,
  items: { type: "string" },
  ...extra,
});
export const int = (description: string, extra: Partial<Schema> = {}): Schema => ({ type: "integer", format: "int64", description, ...extra });
export const bool = (description: string): Schema => ({ type: "boolean", description });
export const immutable = (what: string): Schema["x-kubernetes-validations"] => [{ rule: "self == oldSelf", message: `${what} is immutable` }];

export const ipVersionSchema = (extra: Partial<Schema> = {}): Schema =>
  int("4 or 6; defaulted from the CIDR when omitted", { enum: [4, 6], ...extra });

export const labelSelectorSchema = (description: string): Schema => ({
  type: "object",
  description,
  properties: {
    matchLabels: { type: "object", additionalProperties: { type: "string" } },
    matchExpressions: {
      type: "array",
      items: {
        type: "object",
        required: ["key", "operator"],
        properties: {
          key: { type: "string" },
          operator: { type: "string", enum: ["In", "NotIn", "Exists", "DoesNotExist"] },
          values: { type: "array", items: { type: "string" } },
        },
      },
    },
  },
});

export const routesSchema: Schema = {
  type: "array",
  description: "extra routes for pods; dst unique and never the default route, gw inside subnet",
  items: {
    type: "object",
    required: ["dst", "gw"],
    properties: { dst: str("destination CIDR"), gw: str("next hop, inside subnet") },
  },
};

/**
 * The spec fields SpiderIPPool and SpiderSubnet share, "from ipVersion to routes"
 * (api.md); `what` names the object in the descriptions.
 */
export function addressSpecProperties(what: "pool" | "subnet") {
  return {
    ipVersion: ipVersionSchema({ "x-kubernetes-validations": immutable("spec.ipVersion") }),
    subnet: str(`the ${what}'s CIDR, network form (10.6.0.0/16)`, { minLength: 1, "x-kubernetes-validations": immutable("spec.subnet") }),
    ips: strList(`addresses (10.6.0.5) or inclusive ranges (10.6.0.10-10.6.0.99) inside subnet the ${what} may hand out`),
    excludeIPs: strList("addresses or ranges never handed out"),
    gateway: str(`the subnet's gateway; never handed to a pod${what === "subnet" ? ", inherited by the subnet's pools" : ""}`),
    routes: routesSchema,
  } satisfies Record<string, Schema>;
}

/** The printer columns of the kinds that hold addresses. */
export const ADDRESS_COLUMNS: PrinterColumn[] = [
  { name: "VERSION", type: "integer", jsonPath: ".spec.ipVersion" },
  { name: "SUBNET", type: "string", jsonPath: ".spec.subnet" },
  { name: "ALLOCATED-IP-COUNT", type: "integer", jsonPath: ".status.allocatedIPCount" },
  { name: "TOTAL-IP-COUNT", type: "integer", jsonPath: ".status.totalIPCount" },
];

/** Compile-time check that a schema's property names are exactly a TypeScript type's keys. */
export type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
