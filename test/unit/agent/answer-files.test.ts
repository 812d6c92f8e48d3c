import { describe, expect, it } from "@jest/globals";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AnswerFiles, provenAnswers } from "../../../agent/answer-files.js";
import { AttachmentSpool } from "../../../agent/attachment-spool.js";
import { CniService } from "../../../agent/cni-service.js";
import type { SpiderEndpoint } from "../../../ipam/kinds/endpoint.js";
import type { PodLike } from "../../../ipam/kinds/pod.js";
import { endpointFor } from "../../../ipam/lifecycle/endpoints.js";
import { listCache } from "../../fakes/store.js";
import { RecordingLog } from "../../fakes/log.js";
import { add, NODE, setup } from "./fixtures.js";

describe("provenAnswers", () => {
  it("answers each NIC whose endpoint records exactly the annotation's addresses, default route included", async () => {
    const t = await setup();
    const ep = t.record();
    expect(provenAnswers(t.pod, ep, NODE)).toEqual({
      namespace: "app",
      name: "web-0",
      uid: "u1",
      nics: { eth0: { ips: [{ interface: "eth0", address: "10.6.0.10/24", family: 4, gateway: "10.6.0.1" }], routes: [{ dst: "0.0.0.0/0", gw: "10.6.0.1" }] } },
    });
  });

  it.each([
    ["a Pod of another node", (p: PodLike) => ({ ...p, spec: { nodeName: "n2" } }), (e: SpiderEndpoint) => e],
    ["a finished Pod", (p: PodLike) => ({ ...p, status: { phase: "Succeeded" } }), (e: SpiderEndpoint) => e],
    ["a terminating Pod", (p: PodLike) => ({ ...p, metadata: { ...p.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } }), (e: SpiderEndpoint) => e],
    ["an endpoint of an earlier Pod of that name", (p: PodLike) => p, (e: SpiderEndpoint) => ({ ...e, status: { current: { ...e.status!.current!, uid: "u0" } } })],
    ["an endpoint of another reservation", (p: PodLike) => p, (e: SpiderEndpoint) => ({ ...e, status: { current: { ...e.status!.current!, reservation: "r0" } } })],
    ["an endpoint recording another address", (p: PodLike) => p, (e: SpiderEndpoint) => ({ ...e, status: { current: { ...e.status!.current!, ips: [{ ...e.status!.current!.ips[0]!, ipv4: "10.6.0.99/24" }] } } })],
    ["a malformed annotation", (p: PodLike) => ({ ...p, metadata: { ...p.metadata, annotations: { "ipam.spidernet.io/assigned-ips": "{" } } }), (e: SpiderEndpoint) => e],
  ])("proves nothing for %s", async (_what, pod, ep) => {
    const t = await setup();
    expect(provenAnswers(pod(t.pod), ep(t.record()), NODE)).toBeUndefined();
    expect(provenAnswers(t.pod, undefined, NODE)).toBeUndefined();
  });
});

describe("AnswerFiles", () => {
  it("writes a Pod's file once proven, rewrites it when it changes, removes it when the proof goes, and starts empty", async () => {
    const t = await setup();
    const dir = join(mkdtempSync(join(tmpdir(), "answers-")), "agent.sock.answers");
    const pods = listCache<PodLike>([t.pod]);
    const eps = listCache<SpiderEndpoint>([]);
    const make = () => new AnswerFiles({ dir, nodeName: NODE, pods, endpoints: eps, log: new RecordingLog() });
    const files = make();
    files.refresh("app", "web-0");
    expect(readdirSync(dir)).toEqual([]); // not recorded yet
    eps.items.push(t.record());
    files.refresh("app", "web-0");
    expect(JSON.parse(readFileSync(join(dir, "u1.json"), "utf8"))).toMatchObject({ uid: "u1", nics: { eth0: { ips: [{ address: "10.6.0.10/24" }] } } });
    // The Pod is re-created under a new uid: the old file goes, the new one comes once recorded.
    const next: PodLike = { ...t.pod, metadata: { ...t.pod.metadata, uid: "u2" } };
    pods.items[0] = next;
    files.refresh("app", "web-0");
    expect(readdirSync(dir)).toEqual([]);
    eps.items[0] = endpointFor(next, t.assigned);
    files.refreshAll();
    expect(readdirSync(dir)).toEqual(["u2.json"]);
    pods.items.length = 0;
    files.refreshAll();
    expect(readdirSync(dir)).toEqual([]);
    // A file left by an earlier agent is not trusted.
    writeFileSync(join(dir, "stale.json"), "{}");
    const again = make();
    expect(existsSync(join(dir, "stale.json"))).toBe(false);
    // A stopping agent takes its answers away, and writes none after.
    pods.items.push(next);
    again.refreshAll();
    expect(readdirSync(dir)).toEqual(["u2.json"]);
    again.clear();
    again.refresh("app", "web-0");
    expect(existsSync(dir)).toBe(false);
  });
});

describe("the attachment spool", () => {
  const note = (containerID: string) => JSON.stringify({ op: "add", namespace: "app", name: "web-0", uid: "u1", attachment: { containerID, interface: "eth0", network: "macvlan" } });

  it("hands each whole note to the recorder in order, then removes it; a note still being written waits", async () => {
    const t = await setup();
    t.record();
    const dir = join(mkdtempSync(join(tmpdir(), "spool-")), "agent.sock.spool");
    const spool = new AttachmentSpool(dir, t.recorder, new RecordingLog());
    writeFileSync(join(dir, "000000000000002-c2-eth0.json"), note("c2"));
    writeFileSync(join(dir, "000000000000001-c1-eth0.json"), note("c1"));
    writeFileSync(join(dir, "000000000000003-c3-eth0.tmp"), note("c3"));
    expect(spool.drain()).toBe(2);
    await t.recorder.idle();
    // c2 came last for eth0 on that network: it is the one recorded.
    expect(t.endpoints.peek("web-0", "app")?.status?.current?.attachments).toEqual([{ containerID: "c2", interface: "eth0", network: "macvlan" }]);
    expect(readdirSync(dir)).toEqual(["000000000000003-c3-eth0.tmp"]);
  });

  it("a DEL drains the spool first: the ADD answered from a file is forgotten, not recorded after the DEL", async () => {
    const t = await setup();
    t.record();
    const dir = join(mkdtempSync(join(tmpdir(), "spool-")), "agent.sock.spool");
    const spool = new AttachmentSpool(dir, t.recorder, new RecordingLog());
    const service = new CniService({ ...t.deps, drainSpool: () => spool.drain() });
    writeFileSync(join(dir, "000000000000001-c1-eth0.json"), note("c1"));
    await service.del(add({ containerID: "c1" }));
    spool.drain(); // the watcher's next look finds nothing left to record after the DEL
    await t.recorder.idle();
    expect(t.endpoints.peek("web-0", "app")?.status?.current?.attachments).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("CHECK drains the spool first: an ADD answered from a file is known", async () => {
    const t = await setup();
    t.record();
    const dir = join(mkdtempSync(join(tmpdir(), "spool-")), "agent.sock.spool");
    const spool = new AttachmentSpool(dir, t.recorder, new RecordingLog());
    writeFileSync(join(dir, "000000000000001-c1-eth0.json"), note("c1"));
    await new CniService({ ...t.deps, drainSpool: () => spool.drain() }).check(add({ containerID: "c1" }));
  });
});
