import { API_VERSION, GROUP, VERSION } from "./meta.js";
import type { CrdDefinition, Schema } from "./crd-common.js";
import { coordinatorCrd } from "./coordinator.crd.js";
import { endpointCrd } from "./endpoint.crd.js";
import { ippoolCrd } from "./ippool.crd.js";
import { multusConfigCrd } from "./multus-config.crd.js";
import { reservedIPCrd } from "./reservedip.crd.js";
import { subnetCrd } from "./subnet.crd.js";

export const ALL_CRDS: CrdDefinition[] = [ippoolCrd, subnetCrd, endpointCrd, reservedIPCrd, multusConfigCrd, coordinatorCrd];

/** The apiextensions.k8s.io/v1 CustomResourceDefinition object for one kind. */
export function customResourceDefinition(def: CrdDefinition): Record<string, unknown> {
  const properties: Record<string, Schema> = {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    metadata: { type: "object" },
  };
  if (def.spec) properties.spec = def.spec;
  if (def.status) properties.status = def.status;
  const required = def.spec?.required?.length ? ["spec"] : undefined;
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${def.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: def.listKind,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: ["spiderpool"],
      },
      scope: def.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          ...(def.statusSubresource === false ? {} : { subresources: { status: {} } }),
          additionalPrinterColumns: [...def.printerColumns, { name: "AGE", type: "date", jsonPath: ".metadata.creationTimestamp" }],
          ...(def.selectableFields ? { selectableFields: def.selectableFields.map((jsonPath) => ({ jsonPath })) } : {}),
          schema: { openAPIV3Schema: { type: "object", ...(required ? { required } : {}), properties } },
        },
      ],
    },
  };
}

export { API_VERSION };
