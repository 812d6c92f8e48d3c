import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileJournal } from "../../../agent/attachment-journal.js";
import { AttachmentRecorder } from "../../../agent/attachments.js";
import { CniService, type CniServiceDeps } from "../../../agent/cni-service.js";
import type { AgentRequest } from "../../../cni/protocol.js";
import { formatAssignedIPs, type AssignedIPs } from "../../../ipam/annotations/assigned.js";
import type { SpiderEndpoint } from "../../../ipam/kinds/endpoint.js";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import type { PodLike } from "../../../ipam/kinds/pod.js";
import { endpointFor } from "../../../ipam/lifecycle/endpoints.js";
import { FakeClock } from "../../fakes/clock.js";
import { RecordingLog } from "../../fakes/log.js";
import { FakeStore } from "../../fakes/store.js";
import { pool, reservation, writerOver } from "../lifecycle/fixtures.js";

export const NODE = "n1";

/** The agent's attachment recorder over a store, journaling into a fresh temp file; writes run right after the caller's turn. */
export function recorderOver(endpoints: FakeStore<SpiderEndpoint>, clock = new FakeClock(), journalPath = join(mkdtempSync(join(tmpdir(), "agent-journal-")), "attachments")) {
  const log = new RecordingLog();
  const journal = fileJournal(journalPath, log);
  return { recorder: new AttachmentRecorder({ endpoints, journal, clock, log, defer: (fn) => setImmediate(fn) }), journal, journalPath, log };
}

/** A Pod with a reservation the pool holds, the endpoint the controller would write, and the agent's service over fakes. */
export async function setup(over: Partial<CniServiceDeps> = {}) {
  const pools = new FakeStore<SpiderIPPool>();
  pools.seed(pool("p"));
  const endpoints = new FakeStore<SpiderEndpoint>({ statusSubresource: false });
  const { writer, clock } = writerOver(pools);
  const got = await writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("r1", clock) });
  if (!got.ok || got.kind !== "allocate") throw new Error("allocation failed");
  const assigned: AssignedIPs = { reservation: "r1", ips: [{ interface: "eth0", ipv4: "10.6.0.10/24", ipv4Pool: "p", ipv4Token: got.allocation.token, ipv4Gateway: "10.6.0.1" }] };
  const pods = new Map<string, PodLike>();
  const pod: PodLike = { metadata: { name: "web-0", namespace: "app", uid: "u1", annotations: { "ipam.spidernet.io/assigned-ips": formatAssignedIPs(assigned) } }, spec: { nodeName: NODE } };
  pods.set("app/web-0", pod);
  const fake = new FakeClock();
  const log = new RecordingLog();
  const { recorder, journalPath } = recorderOver(endpoints, fake);
  const deps: CniServiceDeps = {
    nodeName: NODE,
    pod: (ns, name) => Promise.resolve(pods.get(`${ns}/${name}`)),
    endpoints,
    endpointCache: endpoints.cache(),
    attachments: recorder,
    listEndpoints: () => Promise.resolve(endpoints.all()),
    allocator: writer,
    endpointWaitMs: 2_000,
    clock: fake,
    ready: () => true,
    log,
    ...over,
  };
  const service = new CniService(deps);
  const record = (): SpiderEndpoint => endpoints.seed(endpointFor(pod, assigned));
  return { pools, endpoints, pods, pod, assigned, service, deps, clock: fake, record, log, recorder, journalPath };
}

export const add = (over: Partial<AgentRequest> = {}): AgentRequest => ({
  containerID: "c1",
  netns: "/var/run/netns/x",
  ifName: "eth0",
  network: "macvlan",
  podNamespace: "app",
  podName: "web-0",
  podUID: "u1",
  cniVersion: "1.0.0",
  ipam: {},
  ...over,
});

export const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return err as { code: number; message: string };
  }
  throw new Error("expected the agent to refuse");
};

