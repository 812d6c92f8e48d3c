import { isDeepStrictEqual } from "node:util";
import { parseAssignedIPs, sameNics, type AssignedIPs, type AssignedNic } from "../ipam/annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../ipam/annotations/keys.js";
import type { EndpointAttachment, SpiderEndpoint } from "../ipam/kinds/endpoint.js";
import { CNI_ERROR_CODES, type AddAnswer, type AgentRequest, type AnswerIP, type AnswerRoute, type GcAnswer, type GcRequest } from "../cni/protocol.js";
import type { PodLike } from "../ipam/kinds/pod.js";
import { releaseEndpoint } from "../ipam/lifecycle/endpoints.js";
import { ConflictError, type Allocator, type Cache, type Clock, type EndpointStore, type Log } from "../ipam/ports.js";
import { poll, retry, type RetryPolicy } from "../ipam/retry.js";
import type { AttachmentRecorder } from "./attachments.js";

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
  /** The apiserver: read when the informer lacks the record, written by GC. */
  endpoints: EndpointStore;
  /** The informer's endpoints of this node: what ADD and CHECK answer from. */
  endpointCache: Cache<SpiderEndpoint>;
  /** Counts where ADD and CHECK found the record: the informer, or the apiserver. */
  onRecordLook?: (source: "informer" | "apiserver") => void;
  /** Hands the plugin's notes of ADDs it answered from answer files to `attachments`, first. */
  drainSpool?: () => void;
  /** Attachment writes, off the reply path. */
  attachments: Pick<AttachmentRecorder, "record" | "projected">;
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

/**
 * How an ADD waits for the controller's record of a just-created Pod: it looks at the
 * informer (memory) every 25 ms, and at the apiserver once a second in case the watch is
 * behind or broken.
 */
const ENDPOINT_LOOK = { baseMs: 25, maxMs: 25, jitter: false } as const;
const LIVE_LOOK_EVERY = 40;
/** Agents of one node rarely collide on an endpoint; a few quick rounds settle it. */
const ATTACHMENT_RETRY: RetryPolicy = { attempts: 6, baseMs: 10, maxMs: 100, jitter: true };

const sameNic = (a: AssignedNic | undefined, b: AssignedNic | undefined): boolean => a !== undefined && b !== undefined && sameNics([a], [b]);

/**
 * What the agent does for each CNI command. It only answers from what the controller
 * reserved and recorded: the Pod's annotation says which addresses, the SpiderEndpoint
 * (written by the controller; RBAC keeps others from writing it, and the node restriction keeps each agent to its own node's) proves they are this Pod's.
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

  /** Whether the endpoint records exactly this Pod's NIC ("match"), this Pod otherwise ("differs"), or not this Pod. */
  private judge(pod: PodLike, assigned: AssignedIPs, nic: AssignedNic, ep: SpiderEndpoint | undefined): { verdict: "match" | "differs" | "absent"; why: string } {
    const cur = ep?.status?.current;
    if (!ep || !cur) return { verdict: "absent", why: "no SpiderEndpoint yet" };
    const recorded = cur.ips.find((x) => x.interface === nic.interface);
    if (cur.uid === pod.metadata.uid && cur.reservation === assigned.reservation && sameNic(recorded, nic)) return { verdict: "match", why: "" };
    if (cur.uid !== pod.metadata.uid) return { verdict: "absent", why: `the SpiderEndpoint records pod uid ${cur.uid}` };
    return { verdict: "differs", why: `the SpiderEndpoint records ${JSON.stringify(recorded ?? null)} for ${nic.interface}` };
  }

  /**
   * The endpoint once it records exactly this Pod's NIC. The informer's copy answers when it
   * matches; when it is missing or disagrees, the apiserver decides (the informer may be
   * behind), and a Pod the controller has not recorded yet is waited for, up to endpointWaitMs.
   */
  private async recordFor(pod: PodLike, assigned: AssignedIPs, nic: AssignedNic): Promise<SpiderEndpoint> {
    const [name, namespace] = [pod.metadata.name ?? "", pod.metadata.namespace];
    const cached = this.d.endpointCache.get(name, namespace);
    if (cached && this.judge(pod, assigned, nic, cached).verdict === "match") {
      this.d.onRecordLook?.("informer");
      return cached;
    }
    let last = "no SpiderEndpoint yet";
    let seen = false; // on the last look at the apiserver
    let looks = 0;
    let liveNext = true; // the informer missed: the first look is at the apiserver
    const mismatch = (): AgentFailure =>
      new AgentFailure(CNI_ERROR_CODES.RECORD_MISMATCH, `${ANNO_ASSIGNED_IPS} of pod ${pod.metadata.namespace}/${pod.metadata.name} does not match what the controller recorded`, last);
    const found = await poll(
      async () => {
        const live = liveNext || ++looks % LIVE_LOOK_EVERY === 0;
        liveNext = false;
        if (live) this.d.onRecordLook?.("apiserver");
        const ep = live ? await this.d.endpoints.get(name, namespace) : this.d.endpointCache.get(name, namespace);
        const { verdict, why } = this.judge(pod, assigned, nic, ep);
        if (verdict === "match") return ep;
        if (live) [seen, last] = [ep?.status?.current !== undefined, why];
        // This very Pod's record disagrees: the apiserver's word is final, the informer's is checked there.
        if (verdict === "differs" && live) throw mismatch();
        if (verdict === "differs") liveNext = true;
        return undefined;
      },
      { ...ENDPOINT_LOOK, attempts: Number.MAX_SAFE_INTEGER, deadlineMs: this.d.endpointWaitMs },
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
    this.remember(ep, pod, req);
    return answer(nic, req.ipam.clean_gateway === true);
  }

  /** Schedules the attachment's write for after the answer (journaled first, so a crash loses nothing); a repeated ADD writes nothing. */
  private remember(ep: SpiderEndpoint, pod: PodLike, req: AgentRequest): void {
    const att = { containerID: req.containerID, interface: req.ifName, network: req.network };
    const recorded = this.d.attachments.projected(ep).some((a) => isDeepStrictEqual(a, att));
    if (recorded && ep.status?.current?.containerID === att.containerID) return;
    void this.d.attachments.record({ op: "add", namespace: req.podNamespace, name: req.podName, uid: pod.metadata.uid ?? "", attachment: att }, ep);
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
        return this.d.endpoints.replace({ ...current, status: { ...current.status, current: next } });
      },
      { policy: ATTACHMENT_RETRY, clock: this.d.clock, retryable: (err) => err instanceof ConflictError },
    );
  }

  /**
   * The address stays with the Pod: DEL only forgets the attachment. Always succeeds for
   * unknown Pods. Its write queues behind any ADD write still pending for the endpoint, and
   * DEL answers once it landed (teardown does not hold up a Pod's start).
   */
  async del(req: AgentRequest): Promise<void> {
    this.d.drainSpool?.(); // an ADD answered from a file comes before this DEL
    const ep = this.d.endpointCache.get(req.podName, req.podNamespace) ?? (await this.d.endpoints.get(req.podName, req.podNamespace));
    if (!ep?.status?.current) return;
    await this.d.attachments.record({ op: "del", namespace: req.podNamespace, name: req.podName, attachment: { containerID: req.containerID, interface: req.ifName, network: req.network } });
  }

  async check(req: AgentRequest): Promise<void> {
    this.d.drainSpool?.();
    const pod = await this.podOf(req);
    const assigned = this.assignedOf(pod);
    const nic = assigned?.ips.find((n) => n.interface === req.ifName);
    if (!assigned || !nic) throw new AgentFailure(CNI_ERROR_CODES.NO_RESERVATION, `pod ${req.podNamespace}/${req.podName} has no address for ${req.ifName}`);
    const ep = await this.recordFor(pod, assigned, nic);
    // An ADD whose write is still pending (or journaled before a restart and being replayed) counts.
    const known = this.d.attachments.projected(ep).some((a) => a.containerID === req.containerID && a.interface === req.ifName && a.network === req.network);
    if (!known) throw new AgentFailure(CNI_ERROR_CODES.UNKNOWN_CONTAINER, `no attachment of container ${req.containerID} on ${req.ifName} to network ${req.network} is recorded for pod ${req.podNamespace}/${req.podName}`);
  }

  /**
   * Drops this node's attachments to `network` that the runtime no longer lists. A Pod that
   * still exists keeps its addresses (only the attachment is forgotten); the addresses of a
   * Pod that is gone are released exactly and its endpoint removed.
   */
  async gc(req: GcRequest): Promise<GcAnswer> {
    // Notes of ADDs answered from a file are recorded first, or GC would see them late and stale.
    this.d.drainSpool?.();
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
