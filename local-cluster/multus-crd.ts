import type { KubernetesObject } from "@kubernetes/client-node";
import { NAD_GROUP, NAD_KIND, NAD_PLURAL, NAD_VERSION } from "../ipam/kinds/network-attachment.js";

/**
 * Multus's NetworkAttachmentDefinition CRD (k8s.cni.cncf.io/v1), written from the API's
 * shape, for a local control plane without Multus installed: the controller's informer and
 * the SpiderMultusConfig controller need the kind to exist. A cluster with Multus has it.
 */
export function networkAttachmentDefinitionCrd(): KubernetesObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${NAD_PLURAL}.${NAD_GROUP}` },
    spec: {
      group: NAD_GROUP,
      scope: "Namespaced",
      names: { kind: NAD_KIND, listKind: `${NAD_KIND}List`, plural: NAD_PLURAL, singular: "network-attachment-definition", shortNames: ["net-attach-def"] },
      versions: [
        {
          name: NAD_VERSION,
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: "object",
              description: "A named CNI network config that Pods attach to through Multus.",
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: {
                  type: "object",
                  properties: { config: { type: "string", description: "the CNI network config (one plugin or a list) as JSON" } },
                },
              },
            },
          },
        },
      ],
    },
  } as KubernetesObject;
}
