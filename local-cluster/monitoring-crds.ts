import type { KubernetesObject } from "@kubernetes/client-node";

/**
 * The Prometheus Operator's ServiceMonitor and PrometheusRule CRDs (monitoring.coreos.com/v1),
 * reduced to the fields the chart writes, written from the API's shape: a local control
 * plane has no Prometheus Operator, yet the chart's objects of those kinds must pass a
 * server-side dry run. The schemas are structural and closed (no preserved unknown fields),
 * so `kubectl apply --validate=strict` refuses a misspelt or misplaced field as the real
 * CRDs would; fields the chart does not use are simply absent.
 */
const GROUP = "monitoring.coreos.com";

type Schema = Record<string, unknown>;
const str: Schema = { type: "string" };
const stringMap: Schema = { type: "object", additionalProperties: { type: "string" } };
/** A Prometheus duration, as the operator's CRDs pattern it. */
const duration: Schema = { type: "string", pattern: "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$" };

const labelSelector: Schema = {
  type: "object",
  properties: {
    matchLabels: stringMap,
    matchExpressions: {
      type: "array",
      items: { type: "object", required: ["key", "operator"], properties: { key: str, operator: str, values: { type: "array", items: str } } },
    },
  },
};

const secretKey: Schema = { type: "object", required: ["key"], properties: { name: str, key: str, optional: { type: "boolean" } } };

const endpoint: Schema = {
  type: "object",
  properties: {
    port: str,
    path: str,
    scheme: { type: "string", enum: ["http", "https", "HTTP", "HTTPS"] },
    interval: duration,
    scrapeTimeout: duration,
    honorLabels: { type: "boolean" },
    tlsConfig: {
      type: "object",
      properties: {
        serverName: str,
        insecureSkipVerify: { type: "boolean" },
        ca: { type: "object", properties: { secret: secretKey, configMap: secretKey } },
      },
    },
  },
};

const serviceMonitorSpec: Schema = {
  type: "object",
  required: ["endpoints", "selector"],
  properties: {
    selector: labelSelector,
    namespaceSelector: { type: "object", properties: { any: { type: "boolean" }, matchNames: { type: "array", items: str } } },
    endpoints: { type: "array", items: endpoint },
    jobLabel: str,
  },
};

const rule: Schema = {
  type: "object",
  required: ["expr"],
  properties: {
    record: str,
    alert: str,
    expr: { "x-kubernetes-int-or-string": true },
    for: duration,
    keep_firing_for: duration,
    labels: stringMap,
    annotations: stringMap,
  },
};

const prometheusRuleSpec: Schema = {
  type: "object",
  properties: {
    groups: {
      type: "array",
      items: { type: "object", required: ["name"], properties: { name: str, interval: duration, rules: { type: "array", items: rule } } },
    },
  },
};

function crd(kind: string, plural: string, spec: Schema): KubernetesObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: "object", required: ["spec"], properties: { apiVersion: str, kind: str, metadata: { type: "object" }, spec } } },
        },
      ],
    },
  } as KubernetesObject;
}

export function monitoringCrds(): KubernetesObject[] {
  return [crd("ServiceMonitor", "servicemonitors", serviceMonitorSpec), crd("PrometheusRule", "prometheusrules", prometheusRuleSpec)];
}
