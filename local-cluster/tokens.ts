import { CoreV1Api, RbacAuthorizationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { isStatus } from "./kube.js";

async function ensureServiceAccount(core: CoreV1Api, namespace: string, name: string): Promise<void> {
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }).catch((err: unknown) => {
    if (!isStatus(err, 409)) throw err;
  });
}

/**
 * A token of the agents' service account (`spiderpool-agent` in the controller's namespace)
 * as a node agent holds it: issued for the controller's audience and bound to its Node, so
 * that the controller reads the node from the token (authentication.kubernetes.io/node-name).
 * In a cluster the kubelet projects the same claim into the agent Pod's token.
 */
export async function agentToken(kc: KubeConfig, namespace: string, node: string, audience = "spiderpool"): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  await ensureServiceAccount(core, namespace, "spiderpool-agent");
  const uid = (await core.readNode({ name: node })).metadata?.uid;
  const t = await core.createNamespacedServiceAccountToken({
    name: "spiderpool-agent",
    namespace,
    body: { spec: { audiences: [audience], expirationSeconds: 3600, boundObjectRef: { apiVersion: "v1", kind: "Node", name: node, uid } } },
  });
  return t.status?.token ?? "";
}

/** The controller's operator routes (docs/security.md). */
export const OPERATOR_ROUTES = [
  { path: "/v1/consistency", verb: "get" },
  { path: "/v1/history", verb: "get" },
  { path: "/v1/gc", verb: "post" },
] as const;

/**
 * A token of a service account (`spiderpool-operator` in `namespace`) that RBAC allows to
 * call the controller's operator routes, as an operator's `kubectl create token` would give.
 */
export async function operatorToken(kc: KubeConfig, namespace: string): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  await ensureServiceAccount(core, namespace, "spiderpool-operator");
  const name = `${namespace}-spiderpool-operator`;
  const rules = OPERATOR_ROUTES.map((r) => ({ nonResourceURLs: [r.path], verbs: [r.verb] }));
  await rbac.createClusterRole({ body: { metadata: { name }, rules } }).catch((err: unknown) => {
    if (!isStatus(err, 409)) throw err;
  });
  await rbac
    .createClusterRoleBinding({ body: { metadata: { name }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name }, subjects: [{ kind: "ServiceAccount", name: "spiderpool-operator", namespace }] } })
    .catch((err: unknown) => {
      if (!isStatus(err, 409)) throw err;
    });
  const t = await core.createNamespacedServiceAccountToken({ name: "spiderpool-operator", namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  return t.status?.token ?? "";
}
