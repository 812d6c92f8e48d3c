import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig, type V1UserInfo } from "@kubernetes/client-node";
import type { Guard } from "./server.js";

/** The claim a ServiceAccount token bound to a Pod (Kubernetes ≥ 1.30) or a Node carries: the node's name. */
export const NODE_NAME_EXTRA = "authentication.kubernetes.io/node-name";

/**
 * The guards of the controller's routes other than admission: who the bearer token belongs
 * to (TokenReview, with an audience where the token is one of ours), and what that
 * identity may do (SubjectAccessReview on the route's path, as kube-rbac-proxy does).
 */
export class CallerChecks {
  private readonly authn: AuthenticationV1Api;
  private readonly authz: AuthorizationV1Api;

  constructor(kc: KubeConfig) {
    this.authn = kc.makeApiClient(AuthenticationV1Api);
    this.authz = kc.makeApiClient(AuthorizationV1Api);
  }

  /** The identity behind a bearer token, when the apiserver vouches for it (for `audience` when given). */
  private async review(authorization: string | undefined, audience?: string): Promise<V1UserInfo | undefined> {
    const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1];
    if (!token) return undefined;
    const review = await this.authn.createTokenReview({ body: { spec: { token, ...(audience ? { audiences: [audience] } : {}) } } });
    const status = review.status;
    if (!status?.authenticated || !status.user?.username) return undefined;
    // The apiserver answers with the audiences the token and the request share: ours must be one.
    if (audience && !(status.audiences ?? []).includes(audience)) return undefined;
    return status.user;
  }

  /**
   * The node agents: a token issued for `audience`, of one of `users`, bound to a node. The
   * node comes from the token, never from what the agent writes in its request.
   */
  agent(audience: string, users: ReadonlySet<string>): Guard {
    return async (authorization) => {
      const user = await this.review(authorization, audience);
      if (!user) return { refuse: { status: 401, body: { message: `late allocation is for spiderpool agents only: present a service account token issued for audience ${audience}` } } };
      const who = user.username ?? "";
      if (!users.has(who)) return { refuse: { status: 403, body: { message: `late allocation is for spiderpool agents only; ${who} is not one of them` } } };
      const node = user.extra?.[NODE_NAME_EXTRA]?.[0];
      if (!node) return { refuse: { status: 403, body: { message: `the token of ${who} is bound to no node (${NODE_NAME_EXTRA}): give the agent a projected service account token of its own Pod (Kubernetes 1.30 or later) or one bound to its Node` } } };
      return { caller: { username: who, node } };
    };
  }

  /**
   * Operators: any identity the apiserver authenticates (a token for the apiserver's own
   * audience, e.g. `kubectl create token`) whom RBAC allows `verb` on the non-resource URL `path`.
   */
  operator(path: string, verb: "get" | "post"): Guard {
    return async (authorization) => {
      const user = await this.review(authorization);
      if (!user) return { refuse: { status: 401, body: { message: `${path} needs a bearer token the kube-apiserver accepts (kubectl create token ...)` } } };
      const sar = await this.authz.createSubjectAccessReview({
        body: { spec: { user: user.username, groups: user.groups ?? [], extra: user.extra ?? {}, uid: user.uid, nonResourceAttributes: { path, verb } } },
      });
      if (!sar.status?.allowed) return { refuse: { status: 403, body: { message: `${user.username} may not ${verb} ${path}: grant it with a ClusterRole rule nonResourceURLs: ["${path}"], verbs: ["${verb}"]` } } };
      return { caller: { username: user.username ?? "" } };
    };
  }
}
