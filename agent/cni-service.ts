import { isDeepStrictEqual } from "node:util";
import { parseAssignedIPs, sameNics, type AssignedIPs, type AssignedNic } from "../ipam/annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../ipam/annotations/keys.js";
import type { EndpointAttachment, SpiderEndpoint } from "../ipam/kinds/endpoint.js";
import { CNI_ERROR_CODES, type AddAnswer, type AgentRequest, type AnswerIP, type AnswerRoute, type GcAnswer, type GcRequest } from "../cni/protocol.js";
import type { PodLike } from "../ipam/kinds/pod.js";
import { releaseEndpoint } from "../ipam/lifecycle/endpoints.js";
import { ConflictError, type Allocator, type Clock, type EndpointStore, type Log } from "../ipam/ports.js";
import { poll, retry, type RetryPolicy } from "../ipam/retry.js";

/** A refusal with the CNI code the plugin prints. */
export class AgentFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details?: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = "AgentFailure";
  }
}

export interface CniServiceDeps {
  nodeName: string;
  /** The informer's Pod on this node, else a fresh read (undefined: no such Pod). */
  pod: (namespace: string, name: string, fresh: boolean) => Promise<PodLike | undefined>;
  endpoints: EndpointStore;
  /** Every endpoint (GC reads them once per call). */
  listEndpoints: () => Promise<readonly SpiderEndpoint[]>;
  allocator: Allocator;
  /** Asks the controller to reserve for a Pod that has nothing for this NIC; absent: not configured. */
  lateAllocate?: (pod: PodLike, ifName: string) => Promise<void>;
  endpointWaitMs: number;
  clock: Clock;
  ready: () => boolean;
  log: Log;
}

/** How often an ADD looks again for the controller's record of a just-created Pod. */
const ENDPOINT_POLL = { baseMs: 200, maxMs: 200, jitter: false } as const;
/** Agents of one node rarely collide on an endpoint; a few quick rounds settle it. */
const ATTACHMENT_RETRY: RetryPolicy = { attempts: 6, baseMs: 10, maxMs: 100, jitter: true };

const sameNic = (a: AssignedNic | undefined, b: AssignedNic | undefined): boolean => a !== undefined && b !== undefined && sameNics([a], [b]);

/**
 * What the agent does for each CNI command. It only answers from what the controller
 * reserved and recorded: the Pod's annotation says which addresses, the SpiderEndpoint
 * (written by the controller, status protected by RBAC) proves they are this Pod's.
 */
export class CniService {
  constructor(private readonly d: CniServiceDeps) {}

  private async podOf(req: AgentRequest): Promise<PodLike> {
    let pod = await this.d.pod(req.podNamespace, req.podName, false);
    // The informer may still hold the previous Pod of this name: read again before refusing.
    if (!pod || (req.podUID && pod.metadata.uid !== req.podUID)) pod = await this.d.pod(req.podNamespace, req.podName, true);
    if (!pod) throw new AgentFailure(CNI_ERROR_CODES.UNKNOWN_CONTAINER, `pod ${req.podNamespace}/${req.podName} does not exist`);
    if (req.podUID && pod.metadata.uid !== req.podUID) {
      throw new AgentFailure(CNI_ERROR_CODES.UNKNOWN_CONTAINER, `pod ${req.podNamespace}/${req.podName} has uid ${pod.metadata.uid}, not ${req.podUID} as the runtime says; it was re-created`);
    }
    return pod;
  }

  private assignedOf(pod: PodLike): AssignedIPs | undefined {
    const text = pod.metadata.annotations?.[ANNO_ASSIGNED_IPS];
    if (!text) return undefined;
    try {
      return parseAssignedIPs(text);
    } catch (err) {
      throw new AgentFailure(CNI_ERROR_CODES.RECORD_MISMATCH, `pod ${pod.metadata.namespace}/${pod.metadata.name} has a malformed ${ANNO_ASSIGNED_IPS}`, (err as Error).message, "ANNOTATION_INVALID");
    }
  }

  /** The endpoint once it records exactly this Pod's NIC; waits for the controller up to endpointWaitMs. */
  private async recordFor(pod: PodLike, assigned: AssignedIPs, nic: AssignedNic): Promise<SpiderEndpoint> {
    let last = "no SpiderEndpoint yet";
    let seen = false; // on the last look
    const mismatch = (): AgentFailure =>
      new AgentFailure(CNI_ERROR_CODES.RECORD_MISMATCH, `${ANNO_ASSIGNED_IPS} of pod ${pod.metadata.namespace}/${pod.metadata.name} does not match what the controller recorded`, last);
    const found = await poll(
      async () => {
        const ep = await this.d.endpoints.get(pod.metadata.name ?? "", pod.metadata.namespace);
        seen = ep !== undefined;
        const cur = ep?.status?.current;
        if (!ep || !cur) return undefined;
        const recorded = cur.ips.find((x) => x.interface === nic.interface);
        if (cur.uid === pod.metadata.uid && cur.reservation === assigned.reservation && sameNic(recorded, nic)) return ep;
        last = cur.uid !== pod.metadata.uid ? `the SpiderEndpoint records pod uid ${cur.uid}` : `the SpiderEndpoint records ${JSON.stringify(recorded ?? null)} for ${nic.interface}`;
        // An endpoint of this very Pod that disagrees will not change its mind: stop waiting.
        if (cur.uid === pod.metadata.uid) throw mismatch();
        return undefined;
      },
      { ...ENDPOINT_POLL, attempts: Number.MAX_SAFE_INTEGER, deadlineMs: this.d.endpointWaitMs },
      this.d.clock,
    );
    if (found) return found;
    if (!seen) throw new AgentFailure(CNI_ERROR_CODES.TRY_AGAIN_LATER, `the controller has not recorded pod ${pod.metadata.namespace}/${pod.metadata.name}'s reservation yet`, last);
    throw mismatch();
  }

  async add(req: AgentRequest): Promise<AddAnswer> {
    let pod = await this.podOf(req);
    if (pod.spec?.nodeName && pod.spec.nodeName !== this.d.nodeName) {
      throw new AgentFailure(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `pod ${req.podNamespace}/${req.podName} runs on node ${pod.spec.nodeName}, but this agent serves ${this.d.nodeName}: check the plugin's ipam_unix_socket_path`);
    }
    let assigned = this.assignedOf(pod);
    let nic = assigned?.ips.find((n) => n.interface === req.ifName);
    if (!nic) {
      if (!this.d.lateAllocate) {
        throw new AgentFailure(CNI_ERROR_CODES.NO_RESERVATION, `pod ${req.podNamespace}/${req.podName} has no address reserved for ${req.ifName}, and late allocation is not configured (--controller-url)`);
      }
      await this.d.lateAllocate(pod, req.ifName);
      pod = (await this.d.pod(req.podNamespace, req.podName, true)) ?? pod;
      assigned = this.assignedOf(pod);
      nic = assigned?.ips.find((n) => n.interface === req.ifName);
      if (!assigned || !nic) throw new AgentFailure(CNI_ERROR_CODES.NO_RESERVATION, `the controller reserved nothing for ${req.ifName} of pod ${req.podNamespace}/${req.podName}`);
    }
    const ep = await this.recordFor(pod, assigned as AssignedIPs, nic);
    await this.remember(ep, { containerID: req.containerID, interface: req.ifName, network: req.network });
    return answer(nic, req.ipam.clean_gateway === true);
  }

  /** Records the attachment (and the sandbox) on the endpoint; idempotent. */
  private async remember(ep: SpiderEndpoint, att: EndpointAttachment): Promise<void> {
    await this.updateAttachments(ep, (list) => [...list.filter((a) => a.interface !== att.interface || a.network !== att.network), att], att.containerID);
  }

  /**
   * Changes the endpoint's attachments with compare-and-swap, re-reading after a lost race.
   * With `uid`, an endpoint that no longer records that Pod (re-created under the same name)
   * is returned unchanged.
   */
  private updateAttachments(ep: SpiderEndpoint, change: (list: EndpointAttachment[]) => EndpointAttachment[], containerID?: string, uid?: string): Promise<SpiderEndpoint | undefined> {
    let current: SpiderEndpoint | undefined = ep;
    return retry(
      async (attempt) => {
        if (attempt > 1) current = await this.d.endpoints.get(ep.metadata.name ?? "", ep.metadata.namespace);
        const cur = current?.status?.current;
        if (!current || !cur || (uid !== undefined && cur.uid !== uid)) return current;
        const next = { ...cur, attachments: change(cur.attachments ?? []), ...(containerID !== undefined ? { containerID } : {}) };
        if (isDeepStrictEqual(next, cur)) return current;
        return this.d.endpoints.replaceStatus({ ...current, status: { ...current.status, current: next } });
      },
      { policy: ATTACHMENT_RETRY, clock: this.d.clock, retryable: (err) => err instanceof ConflictError },
    );
  }

  /** The address stays with the Pod: DEL only forgets the attachment. Always succeeds for unknown Pods. */
  async del(req: AgentRequest): Promise<void> {
    const ep = await this.d.endpoints.get(req.podName, req.podNamespace);
    if (!ep?.status?.current) return;
    await this.updateAttachments(ep, (list) => list.filter((a) => !(a.containerID === req.containerID && a.interface === req.ifName && a.network === req.network)));
  }

  async check(req: AgentRequest): Promise<void> {
    const pod = await this.podOf(req);
    const assigned = this.assignedOf(pod);
    const nic = assigned?.ips.find((n) => n.interface === req.ifName);
    if (!assigned || !nic) throw new AgentFailure(CNI_ERROR_CODES.NO_RESERVATION, `pod ${req.podNamespace}/${req.podName} has no address for ${req.ifName}`);
    const ep = await this.recordFor(pod, assigned, nic);
    const known = ep.status?.current?.attachments?.some((a) => a.containerID === req.containerID && a.interface === req.ifName && a.network === req.network);
    if (!known) throw new AgentFailure(CNI_ERROR_CODES.UNKNOWN_CONTAINER, `no attachment of container ${req.containerID} on ${req.ifName} to network ${req.network} is recorded for pod ${req.podNamespace}/${req.podName}`);
  }

  /**
   * Drops this node's attachments to `network` that the runtime no longer lists. A Pod that
   * still exists keeps its addresses (only the attachment is forgotten); the addresses of a
   * Pod that is gone are released exactly and its endpoint removed.
   */
  async gc(req: GcRequest): Promise<GcAnswer> {
    const valid = new Set(req.validAttachments.map((a) => `${a.containerID}/${a.ifname}`));
    let released = 0;
    for (const ep of await this.d.listEndpoints()) released += await this.collectStale(ep, req.network, valid);
    return { released };
  }

  /**
   * One endpoint's part of GC: forgets its attachments on this node to `network` that are
   * not `valid`, and releases its addresses when its Pod is gone. The judgement "gone" is
   * about one Pod uid, and every write after it is guarded by that uid: an endpoint that
   * meanwhile records another Pod of the same name (re-created, maybe on another node) is
   * left alone. Returns how many attachments were actually forgotten.
   */
  private async collectStale(ep: SpiderEndpoint, network: string, valid: ReadonlySet<string>): Promise<number> {
    const cur = ep.status?.current;
    const isStale = (a: EndpointAttachment): boolean => a.network === network && !valid.has(`${a.containerID}/${a.interface}`);
    if (!cur || cur.node !== this.d.nodeName || !(cur.attachments ?? []).some(isStale)) return 0;
    const judged = cur.uid;
    const pod = await this.d.pod(ep.metadata.namespace ?? "", ep.metadata.name ?? "", true);
    let forgotten = 0;
    const forget = (list: EndpointAttachment[]): EndpointAttachment[] => {
      const keep = list.filter((a) => !isStale(a));
      forgotten = list.length - keep.length;
      return keep;
    };
    const left = await this.updateAttachments(ep, forget, undefined, judged);
    if (left?.status?.current?.uid !== judged) return 0;
    if ((!pod || pod.metadata.uid !== judged) && unattachedAndReleasable(left)) {
      await releaseEndpoint(this.d.allocator, this.d.endpoints, left, "cni-gc", this.d.log);
    }
    return forgotten;
  }

  status(): void {
    if (!this.d.ready()) throw new AgentFailure(CNI_ERROR_CODES.PLUGIN_NOT_AVAILABLE, `spiderpool-agent on ${this.d.nodeName} has not synced its caches yet`);
  }
}

/** No attachment is left, and the addresses do not stick to the Pod's name (as a StatefulSet's do). */
function unattachedAndReleasable(ep: SpiderEndpoint): boolean {
  return (ep.status?.current?.attachments ?? []).length === 0 && ep.status?.ownerControllerType !== "StatefulSet";
}

/** The plugin's view of one NIC: its addresses, and routes with the default route(s) unless the gateway is cleaned. */
export function answer(nic: AssignedNic, cleanGatewayConfig: boolean): AddAnswer {
  const ips: AnswerIP[] = [];
  const routes: AnswerRoute[] = [];
  const clean = cleanGatewayConfig || nic.cleanGateway === true;
  for (const [p, family, dflt] of [["ipv4", 4, "0.0.0.0/0"], ["ipv6", 6, "::/0"]] as const) {
    const address = nic[p];
    if (!address) continue;
    const gateway = nic[`${p}Gateway`];
    ips.push({ interface: nic.interface, address, family, ...(gateway ? { gateway } : {}), ...(nic.vlan !== undefined ? { vlan: nic.vlan } : {}) });
    if (gateway && !clean) routes.push({ dst: dflt, gw: gateway });
  }
  for (const r of nic.routes ?? []) routes.push({ dst: r.dst, gw: r.gw });
  return { ips, routes };
}
