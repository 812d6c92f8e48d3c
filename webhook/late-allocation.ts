import { ApiException, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { formatAssignedIPs } from "../ipam/annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../ipam/annotations/keys.js";
import type { PodLike } from "../ipam/kinds/pod.js";
import { allocateLate, type LateAllocationDeps, type LateRequest } from "../ipam/lifecycle/late-allocation.js";
import { ConflictError } from "../ipam/ports.js";
import { isNotFound } from "../k8s/resources.js";
import { lateRequestProblem } from "./late-request.js";
import type { Caller, HttpAnswer } from "./server.js";

export type { HttpAnswer };

/**
 * `POST /v1/allocate`, asked by a node agent for a Pod that reached CNI without addresses.
 * The route's guard (CallerChecks.agent) has authenticated the caller and found the node
 * its token is bound to: the allocation is for that node only, whatever the body says.
 * The work is the core's allocateLate.
 */
export class LateAllocationEndpoint {
  private readonly core: CoreV1Api;
  private readonly deps: LateAllocationDeps;

  constructor(kc: KubeConfig, deps: Omit<LateAllocationDeps, "readPod" | "writeAssigned">) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.deps = { ...deps, readPod: (ns, name) => this.readPod(ns, name), writeAssigned: (pod, assigned) => this.writeAssigned(pod, assigned) };
  }

  async handle(body: unknown, caller: Caller): Promise<HttpAnswer> {
    const req = (typeof body === "object" && body !== null ? body : {}) as Partial<LateRequest>;
    if (!caller.node) return { status: 403, body: { message: `${caller.username} is bound to no node` } };
    if (req.node !== undefined && req.node !== caller.node) {
      return { status: 403, body: { message: `${caller.username} runs on node ${caller.node} and may ask for Pods on that node only, not ${String(req.node)}` } };
    }
    // The node is the caller's; the rest of the body is checked field by field before anything is read.
    const problem = lateRequestProblem({ ...req, node: caller.node });
    if (problem) return { status: 400, body: { message: problem } };
    const r = req as LateRequest;
    const outcome = await allocateLate({ namespace: r.namespace, name: r.name, uid: r.uid, interface: r.interface, node: caller.node }, this.deps);
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
