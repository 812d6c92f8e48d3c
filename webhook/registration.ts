import { AdmissionregistrationV1Api, type KubeConfig, type V1LabelSelector, type V1MutatingWebhookConfiguration, type V1ValidatingWebhookConfiguration } from "@kubernetes/client-node";
import { isNotFound } from "../k8s/resources.js";
import type { ControllerConfig } from "./config.js";
import { GROUP, VERSION } from "../ipam/kinds/meta.js";
import type { PrimaryNetwork } from "../ipam/kinds/network-attachment.js";
import { ANNO_ASSIGNED_IPS, ANNO_MULTUS_DEFAULT_NETWORK, ANNO_MULTUS_NETWORKS } from "../ipam/annotations/keys.js";
import { APPLICATION_KINDS } from "../ipam/kinds/application.js";

/** Where the apiserver reaches the admission server: a URL (local runs) or a Service. */
export type Endpoint = { url: string } | { service: { namespace: string; name: string; port: number } };

export interface RegistrationOptions {
  mutatingName: string;
  validatingName: string;
  endpoint: Endpoint;
  /** base64 PEM; the controller keeps it current, so it may start empty. */
  caBundle?: string;
  failurePolicy: "Fail" | "Ignore";
  timeoutSeconds?: number;
  /** Restricts the webhooks to labelled objects (tests that share one control plane use it). */
  objectSelector?: V1LabelSelector;
  /** Namespaces whose Pods the Pod webhooks never see (kube-system, the install namespace, ...). */
  excludedNamespaces: readonly string[];
  /** Replaces the namespace selector of the Pod webhooks (tests: only their own namespaces). */
  podNamespaceSelector?: V1LabelSelector;
  /** The Pod webhooks' failurePolicy: Fail refuses Pods while the controller is down; Ignore lets them through without addresses. */
  podFailurePolicy?: "Fail" | "Ignore";
  /** The cluster's primary network: when it is another plugin's, only Pods that name Multus networks can need Spiderpool. */
  primaryNetwork?: PrimaryNetwork;
}

const annotated = (object: string, key: string): string => `(has(${object}.metadata.annotations) && '${key}' in ${object}.metadata.annotations)`;

/**
 * CEL conditions the apiserver checks before calling the Pod mutating webhook, so that Pods
 * it can tell have no Spiderpool NIC never depend on the controller being up: host-network
 * Pods always, and when eth0 is another plugin's, Pods that name no Multus network.
 */
export function podMatchConditions(primary: PrimaryNetwork | undefined): { name: string; expression: string }[] {
  const conditions = [{ name: "not-host-network", expression: "!has(object.spec.hostNetwork) || !object.spec.hostNetwork" }];
  if (primary === "other") {
    conditions.push({ name: "names-a-multus-network", expression: `${annotated("object", ANNO_MULTUS_NETWORKS)} || ${annotated("object", ANNO_MULTUS_DEFAULT_NETWORK)}` });
  }
  return conditions;
}

/**
 * The assigned-ips guard is called only for an update that adds, removes or changes the
 * annotation: the apiserver compares old and new itself, so the kubelet's status updates and
 * every other Pod update (several per Pod) never wait on the controller.
 */
const GUARD_CONDITIONS = [
  {
    name: "changes-assigned-ips",
    expression: `${annotated("object", ANNO_ASSIGNED_IPS)} != ${annotated("oldObject", ANNO_ASSIGNED_IPS)} || (${annotated("object", ANNO_ASSIGNED_IPS)} && object.metadata.annotations['${ANNO_ASSIGNED_IPS}'] != oldObject.metadata.annotations['${ANNO_ASSIGNED_IPS}'])`,
  },
];

/** The admission endpoints of the controller: path segment under /webhooks/. */
export const KIND_WEBHOOKS = [
  { resource: "spiderippools", path: "spiderippool", scope: "Cluster" },
  { resource: "spidersubnets", path: "spidersubnet", scope: "Cluster" },
  { resource: "spiderreservedips", path: "spiderreservedip", scope: "Cluster" },
  { resource: "spidermultusconfigs", path: "spidermultusconfig", scope: "Namespaced" },
] as const;

/**
 * The rules of the applications' webhook: each kind and, where it has one, its scale
 * subresource (an HPA or `kubectl scale` changes replicas there), grouped by API group.
 */
export function applicationRules() {
  const byGroup = new Map<string, string[]>();
  for (const [kind, k] of Object.entries(APPLICATION_KINDS)) {
    const group = k.apiVersion.split("/")[0] ?? "";
    const scalable = kind === "Deployment" || kind === "ReplicaSet" || kind === "StatefulSet";
    byGroup.set(group, [...(byGroup.get(group) ?? []), k.resource, ...(scalable ? [`${k.resource}/scale`] : [])]);
  }
  return [...byGroup].map(([group, resources]) => ({ apiGroups: [group], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources, scope: "Namespaced" }));
}

function clientConfig(ep: Endpoint, path: string, caBundle?: string) {
  const cfg = "url" in ep ? { url: `${ep.url.replace(/\/$/, "")}/webhooks/${path}` } : { service: { ...ep.service, path: `/webhooks/${path}` } };
  return caBundle ? { ...cfg, caBundle } : cfg;
}

/** The Mutating- and ValidatingWebhookConfiguration of the controller. */
export function webhookConfigurations(o: RegistrationOptions): [V1MutatingWebhookConfiguration, V1ValidatingWebhookConfiguration] {
  const common = (path: string, resource: string, scope: "Cluster" | "Namespaced") => ({
    clientConfig: clientConfig(o.endpoint, path, o.caBundle),
    rules: [{ apiGroups: [GROUP], apiVersions: [VERSION], operations: ["CREATE", "UPDATE"], resources: [resource], scope }],
    failurePolicy: o.failurePolicy,
    sideEffects: "None",
    admissionReviewVersions: ["v1"],
    timeoutSeconds: o.timeoutSeconds ?? 10,
    ...(o.objectSelector ? { objectSelector: o.objectSelector } : {}),
  });
  const labels = { "app.kubernetes.io/part-of": "spiderpool" };
  const podCommon = (path: string, operation: "CREATE" | "UPDATE", resources = ["pods"]) => ({
    clientConfig: clientConfig(o.endpoint, path, o.caBundle),
    rules: [{ apiGroups: [""], apiVersions: ["v1"], operations: [operation], resources, scope: "Namespaced" }],
    failurePolicy: o.podFailurePolicy ?? o.failurePolicy,
    admissionReviewVersions: ["v1"],
    timeoutSeconds: o.timeoutSeconds ?? 10,
    namespaceSelector: o.podNamespaceSelector ?? {
      matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: [...o.excludedNamespaces] }],
    },
  });
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: { name: o.mutatingName, labels },
      webhooks: [
        ...KIND_WEBHOOKS.map((k) => ({ name: `${k.path}.mutate.${GROUP}`, reinvocationPolicy: "Never", ...common(`mutate-${k.path}`, k.resource, k.scope) })),
        // Reserves at Pod CREATE. A dry run reserves nothing, hence NoneOnDryRun; a repeated
        // call for one request gets the same reservation, so Never reinvoking loses nothing.
        { name: `pod.mutate.${GROUP}`, reinvocationPolicy: "Never", sideEffects: "NoneOnDryRun", matchConditions: podMatchConditions(o.primaryNetwork), ...podCommon("mutate-pod", "CREATE") },
      ],
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: o.validatingName, labels },
      webhooks: [
        ...KIND_WEBHOOKS.map((k) => ({ name: `${k.path}.validate.${GROUP}`, ...common(`validate-${k.path}`, k.resource, k.scope) })),
        // pods/status too: a Pod's metadata (its annotations) can be written through its status subresource.
        { name: `pod.validate.${GROUP}`, sideEffects: "None", matchConditions: GUARD_CONDITIONS, ...podCommon("validate-pod", "UPDATE", ["pods", "pods/status"]) },
        // Sizes automatic pools when an application or its scale is admitted: validating,
        // because only there a created object has its uid. Writes pools, hence NoneOnDryRun.
        { name: `application.validate.${GROUP}`, sideEffects: "NoneOnDryRun", ...podCommon("validate-application", "UPDATE"), rules: applicationRules() },
      ],
    },
  ];
}

/**
 * The webhook configurations `config` describes: what registerWebhooks writes, and what the
 * Helm chart renders for the same settings (test/build/chart.test.ts compares the two).
 */
export function registeredWebhookConfigurations(config: ControllerConfig, caBundlePem?: string): [V1MutatingWebhookConfiguration, V1ValidatingWebhookConfiguration] {
  const endpoint: Endpoint = config.registration.url
    ? { url: config.registration.url }
    : { service: { namespace: config.namespace, name: config.tls.serviceName, port: config.registration.servicePort } };
  return webhookConfigurations({
    mutatingName: config.webhookConfigurations.mutating[0] ?? "spiderpool-mutating",
    validatingName: config.webhookConfigurations.validating[0] ?? "spiderpool-validating",
    endpoint,
    ...(caBundlePem !== undefined ? { caBundle: Buffer.from(caBundlePem).toString("base64") } : {}),
    failurePolicy: "Fail",
    podFailurePolicy: config.registration.podFailurePolicy,
    excludedNamespaces: config.ipam.excludedNamespaces,
    primaryNetwork: config.ipam.primaryNetwork,
  });
}

/**
 * Writes the controller's webhook configurations (create, or replace keeping nothing of the
 * old ones): what the settings say is what the apiserver calls. Idempotent; run by every
 * replica at start.
 */
export async function registerWebhooks(kc: KubeConfig, config: ControllerConfig, caBundlePem: string): Promise<void> {
  const [mutating, validating] = registeredWebhookConfigurations(config, caBundlePem);
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  const name = (o: { metadata?: { name?: string } }): string => o.metadata?.name ?? "";
  try {
    const current = await api.readMutatingWebhookConfiguration({ name: name(mutating) });
    await api.replaceMutatingWebhookConfiguration({ name: name(mutating), body: { ...mutating, metadata: { ...mutating.metadata, resourceVersion: current.metadata?.resourceVersion } } });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await api.createMutatingWebhookConfiguration({ body: mutating });
  }
  try {
    const current = await api.readValidatingWebhookConfiguration({ name: name(validating) });
    await api.replaceValidatingWebhookConfiguration({ name: name(validating), body: { ...validating, metadata: { ...validating.metadata, resourceVersion: current.metadata?.resourceVersion } } });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await api.createValidatingWebhookConfiguration({ body: validating });
  }
}
