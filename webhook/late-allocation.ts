import { ApiException, AuthenticationV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { formatAssignedIPs } from "../ipam/annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../ipam/annotations/keys.js";
import type { PodLike } from "../ipam/kinds/pod.js";
import { allocateLate, type LateAllocationDeps, type LateRequest } from "../ipam/lifecycle/late-allocation.js";
import { ConflictError } from "../ipam/ports.js";
import { isNotFound } from "../k8s/resources.js";
import { lateRequestProblem } from "./late-request.js";

export interface HttpAnswer {
  status: number;
  body: unknown;
}

/**
 * `POST /v1/allocate`, asked by a node agent for a Pod that reached CNI without addresses:
 * the caller is authenticated (TokenReview on its bearer token) and must be an agent; the
 * work is the core's allocateLate.
 */
export class LateAllocationEndpoint {
  private readonly core: CoreV1Api;
  private readonly auth: AuthenticationV1Api;
  private readonly deps: LateAllocationDeps;

  constructor(
    kc: KubeConfig,
    deps: Omit<LateAllocationDeps, "readPod" | "writeAssigned">,
    private readonly agentUsers: ReadonlySet<string>,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.auth = kc.makeApiClient(AuthenticationV1Api);
    this.deps = { ...deps, readPod: (ns, name) => this.readPod(ns, name), writeAssigned: (pod, assigned) => this.writeAssigned(pod, assigned) };
  }

  /** Who the bearer token belongs to, by asking the apiserver (TokenReview). */
  private async caller(authorization: string | undefined): Promise<string | undefined> {
    const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1];
    if (!token) return undefined;
    const review = await this.auth.createTokenReview({ body: { spec: { token } } });
    return review.status?.authenticated ? review.status.user?.username : undefined;
  }

  async handle(body: unknown, authorization: string | undefined): Promise<HttpAnswer> {
    const who = await this.caller(authorization);
    if (!who || !this.agentUsers.has(who)) return { status: 401, body: { message: `late allocation is for spiderpool agents only; ${who ?? "an unauthenticated caller"} is not one of them` } };
    const problem = lateRequestProblem(body);
    if (problem) return { status: 400, body: { message: problem } };
    const outcome = await allocateLate(body as LateRequest, this.deps);
    switch (outcome.kind) {
      case "assigned":
        return { status: 200, body: { assigned: outcome.assigned } };
      case "conflict":
        return { status: 409, body: { message: outcome.message } };
      case "refused":
        return { status: 422, body: { message: outcome.error.message, reason: outcome.error.code } };
    }
  }

  private async readPod(namespace: string, name: string): Promise<PodLike | undefined> {
    try {
      return (await this.core.readNamespacedPod({ name, namespace })) as PodLike;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** A merge patch guarded by the Pod's resourceVersion: a Pod changed meanwhile is read again by the core (ConflictError). */
  private async writeAssigned(pod: PodLike, assigned: Parameters<typeof formatAssignedIPs>[0]): Promise<void> {
    const body = { metadata: { resourceVersion: pod.metadata.resourceVersion, annotations: { [ANNO_ASSIGNED_IPS]: formatAssignedIPs(assigned) } } };
    try {
      await this.core.patchNamespacedPod({ name: pod.metadata.name ?? "", namespace: pod.metadata.namespace ?? "", body }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    } catch (err) {
      if (err instanceof ApiException && err.code === 409) throw new ConflictError(err.message);
      throw err;
    }
  }
}
