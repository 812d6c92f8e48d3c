import { AuthenticationV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { createHash } from "node:crypto";
import type { Logger } from "pino";
import { formatAssignedIPs, parseAssignedIPs, type AssignedIPs } from "../../ipam/annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../../ipam/annotations/keys.js";
import { isIpamError } from "../../ipam/errors.js";
import type { Allocator } from "../../k8s/pool-writer.js";
import { recordedAddresses } from "../../k8s/endpoint-release.js";
import { reserveAddresses, type ReserveContext } from "./reserve.js";

export interface LateRequest {
  namespace: string;
  name: string;
  uid: string;
  node: string;
  interface: string;
}

export interface HttpAnswer {
  status: number;
  body: unknown;
}

/**
 * Late allocation, asked by a node agent for a Pod that reached CNI without addresses for a
 * NIC (its namespace is excluded from the webhook, it predates Spiderpool, or its pools were
 * deferred to CNI time). Runs the same reservation as admission, now with the node known,
 * and writes the result into the Pod's assigned-ips as the system; the binder records it.
 */
export class LateAllocation {
  private readonly core: CoreV1Api;
  private readonly auth: AuthenticationV1Api;

  constructor(
    kc: KubeConfig,
    private readonly ctx: Omit<ReserveContext, "allocator">,
    private readonly allocator: Allocator,
    private readonly agentUsers: ReadonlySet<string>,
    private readonly log: Logger,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.auth = kc.makeApiClient(AuthenticationV1Api);
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
    const req = body as Partial<LateRequest>;
    if (!req.namespace || !req.name || !req.uid || !req.node || !req.interface) {
      return { status: 400, body: { message: "late allocation needs namespace, name, uid, node and interface" } };
    }
    const pod = await this.core.readNamespacedPod({ name: req.name, namespace: req.namespace });
    if (pod.metadata?.uid !== req.uid) return { status: 409, body: { message: `pod ${req.namespace}/${req.name} has uid ${pod.metadata?.uid}, not ${req.uid}` } };
    if (pod.spec?.nodeName !== req.node) return { status: 409, body: { message: `pod ${req.namespace}/${req.name} is on node ${pod.spec?.nodeName}, not ${req.node}` } };
    const text = pod.metadata.annotations?.[ANNO_ASSIGNED_IPS];
    const existing: AssignedIPs | undefined = text ? parseAssignedIPs(text) : undefined;
    if (existing?.ips.some((n) => n.interface === req.interface)) return { status: 200, body: { assigned: existing } };
    const id = existing?.reservation ?? `l${createHash("sha256").update(req.uid).digest("hex").slice(0, 15)}`;
    const annotations = { ...pod.metadata.annotations };
    delete annotations[ANNO_ASSIGNED_IPS];
    const log = this.log.child({ pod: `${req.namespace}/${req.name}`, reservation: id, interface: req.interface });
    try {
      const r = await reserveAddresses(
        {
          namespace: req.namespace,
          name: req.name,
          labels: pod.metadata.labels ?? {},
          annotations,
          nodeName: req.node,
          ...(pod.metadata.ownerReferences ? { ownerReferences: pod.metadata.ownerReferences } : {}),
        },
        id,
        { ...this.ctx, allocator: this.allocator },
        [req.interface],
      );
      const merged: AssignedIPs = { reservation: id, ips: [...(existing?.ips ?? []), ...r.assigned.ips] };
      try {
        await this.writeAnnotation(pod, merged);
      } catch (err) {
        await this.giveBack(r.assigned, id);
        throw err;
      }
      log.info({ ips: r.assigned.ips }, "late allocation");
      return { status: 200, body: { assigned: merged } };
    } catch (err) {
      if (isIpamError(err)) return { status: 422, body: { message: err.message, reason: err.code } };
      throw err;
    }
  }

  /** A merge patch guarded by the Pod's resourceVersion: a Pod changed meanwhile is retried by the agent. */
  private async writeAnnotation(pod: V1Pod, assigned: AssignedIPs): Promise<void> {
    await this.core.patchNamespacedPod(
      {
        name: pod.metadata?.name ?? "",
        namespace: pod.metadata?.namespace ?? "",
        body: { metadata: { resourceVersion: pod.metadata?.resourceVersion, annotations: { [ANNO_ASSIGNED_IPS]: formatAssignedIPs(assigned) } } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  }

  private async giveBack(assigned: AssignedIPs, id: string): Promise<void> {
    const pools = new Set(recordedAddresses(assigned.ips).map((a) => a.pool));
    await Promise.all([...pools].map((p) => this.allocator.submit(p, { kind: "release-reservation", reservation: id })));
  }
}
