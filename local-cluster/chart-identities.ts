import { AuthorizationV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi, type KubernetesObject } from "@kubernetes/client-node";
import { reuseConnections } from "../k8s/connections.js";
import { renderChart, type ChartRender } from "./chart.js";
import { apply, isStatus, waitFor } from "./kube.js";

/** The chart's objects that make up who the programs are and what they may do. */
export const IDENTITY_KINDS: ReadonlySet<string> = new Set([
  "ServiceAccount",
  "ClusterRole",
  "ClusterRoleBinding",
  "Role",
  "RoleBinding",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  // The priority level of the programs' requests (API Priority and Fairness).
  "FlowSchema",
]);

/** Kinds with no namespace: deleting the release's namespace does not remove them. */
const CLUSTER_SCOPED: ReadonlySet<string> = new Set(["ClusterRole", "ClusterRoleBinding", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "FlowSchema"]);

export interface ProgramIdentity {
  serviceAccount: string;
  /** How the apiserver names it: system:serviceaccount:<namespace>:<serviceAccount>. */
  username: string;
}

export interface ChartIdentities {
  namespace: string;
  controller: ProgramIdentity;
  agent: ProgramIdentity;
  /** The objects applied. */
  objects: KubernetesObject[];
  /** Everything the chart rendered (applied or not). */
  rendered: KubernetesObject[];
  /** Removes what the namespace's deletion would leave behind (the cluster-scoped objects). */
  remove(): Promise<void>;
}

function identity(objects: readonly KubernetesObject[], namespace: string, component: string): ProgramIdentity {
  const sa = objects.find((o) => o.kind === "ServiceAccount" && o.metadata?.labels?.["app.kubernetes.io/component"] === component);
  const name = sa?.metadata?.name;
  if (!name) throw new Error(`the chart renders no ServiceAccount for the ${component}`);
  return { serviceAccount: name, username: `system:serviceaccount:${namespace}:${name}` };
}

/**
 * Applies the chart's ServiceAccounts, RBAC and admission policy, exactly as `helm install`
 * would render them for release `o.release` in `o.namespace` (which must exist), so that
 * programs started here can run with the chart's identities and nothing more.
 */
export async function installChartIdentities(kc: KubeConfig, o: ChartRender): Promise<ChartIdentities> {
  const rendered = renderChart(o);
  const objects = rendered.filter((x) => IDENTITY_KINDS.has(x.kind ?? ""));
  await apply(kc, objects, "spiderpool-chart");
  const controller = identity(objects, o.namespace, "controller");
  const agent = identity(objects, o.namespace, "agent");
  await rolesInForce(kc, o.namespace, [controller, agent]);
  const client = KubernetesObjectApi.makeApiClient(kc);
  return {
    namespace: o.namespace,
    controller,
    agent,
    objects,
    rendered,
    async remove() {
      for (const obj of objects.filter((x) => CLUSTER_SCOPED.has(x.kind ?? ""))) {
        await client.delete(obj).catch((err: unknown) => {
          if (!isStatus(err, 404)) throw err;
        });
      }
    },
  };
}

/**
 * Waits until the apiserver's authorizer has the new roles (its caches follow the objects
 * within moments): a program started at once would otherwise see its first calls refused.
 */
async function rolesInForce(kc: KubeConfig, namespace: string, users: readonly ProgramIdentity[]): Promise<void> {
  const api = kc.makeApiClient(AuthorizationV1Api);
  for (const u of users) {
    await waitFor(`the roles of ${u.username}`, async () => {
      const review = await api.createSubjectAccessReview({
        body: { spec: { user: u.username, groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`], resourceAttributes: { verb: "list", resource: "pods" } } },
      });
      return review.status?.allowed === true;
    });
  }
}

/**
 * A token of service account `name` (TokenRequest), optionally bound to a Node: the apiserver
 * then names that node in the token's user info (authentication.kubernetes.io/node-name), as
 * it does for the Pod-bound token the kubelet projects into a DaemonSet's Pod. `audiences`
 * empty means the apiserver's own; the controller's late allocation wants its own audience.
 */
export async function serviceAccountToken(kc: KubeConfig, namespace: string, name: string, boundToNode?: string, audiences: string[] = []): Promise<string> {
  const expirationSeconds = 24 * 3600;
  const core = kc.makeApiClient(CoreV1Api);
  const node = boundToNode ? await core.readNode({ name: boundToNode }) : undefined;
  const boundObjectRef = node ? { apiVersion: "v1", kind: "Node", name: boundToNode, uid: node.metadata?.uid } : undefined;
  const res = await core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences, expirationSeconds, ...(boundObjectRef ? { boundObjectRef } : {}) } } });
  const token = res.status?.token;
  if (!token) throw new Error(`no token was issued for service account ${namespace}/${name}`);
  return token;
}

/**
 * `base`'s cluster with a bearer token as the only credential, loaded into `into` (a
 * KubeConfig subclass the caller holds, e.g. one that intercepts requests) or a new one.
 */
export function tokenKubeConfig(base: KubeConfig, token: string, into: KubeConfig = new KubeConfig()): KubeConfig {
  const cluster = base.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig has no current cluster");
  into.loadFromOptions({
    clusters: [cluster],
    users: [{ name: "service-account", token }],
    contexts: [{ name: "service-account", cluster: cluster.name, user: "service-account" }],
    currentContext: "service-account",
  });
  return reuseConnections(into);
}
