/**
 * The ADD path's cost (issue 16): what an ADD waits on before it answers, and that what it
 * no longer waits on (the attachment write) is still never lost. Over fake ports, counting
 * the apiserver reads and the writes the answer would have waited for.
 */
import { describe, expect, it } from "@jest/globals";
import { CniService } from "../../../agent/cni-service.js";
import type { SpiderEndpoint } from "../../../ipam/kinds/endpoint.js";
import type { Cache } from "../../../ipam/ports.js";
import { add, failure, recorderOver, setup } from "./fixtures.js";
import { CNI_ERROR_CODES } from "../../../cni/protocol.js";

/** Holds the store's status writes until released: an apiserver that is slow to answer. */
function holdWrites(endpoints: { replace: (o: SpiderEndpoint) => Promise<SpiderEndpoint> }) {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const write = endpoints.replace.bind(endpoints);
  let held = 0;
  endpoints.replace = async (obj) => {
    held++;
    await gate;
    return write(obj);
  };
  return { release: () => release(), held: () => held };
}

const attachmentsOf = (t: Awaited<ReturnType<typeof setup>>) => t.endpoints.peek("web-0", "app")?.status?.current?.attachments;

describe("the ADD path", () => {
  it("answers from the informer's copy of the endpoint, without reading the apiserver", async () => {
    const t = await setup();
    t.record();
    await t.service.add(add());
    expect(t.endpoints.reads).toEqual([]);
  });

  it("reads the apiserver when the informer's copy is missing or records an earlier Pod of that name", async () => {
    const stale: SpiderEndpoint[] = [];
    const t = await setup({ endpointCache: { get: () => stale[0], list: () => stale } });
    t.record();
    await t.service.add(add());
    expect(t.endpoints.reads).toEqual(["app/web-0"]);
    stale.push({ ...(t.endpoints.peek("web-0", "app") as SpiderEndpoint), status: { current: { uid: "an-earlier-pod", ips: [] } } });
    await t.service.add(add());
    expect(t.endpoints.reads).toEqual(["app/web-0", "app/web-0"]);
  });

  it("answers before the attachment is written, and the write lands after", async () => {
    const t = await setup();
    t.record();
    const hold = holdWrites(t.endpoints);
    let answered = false;
    const reply = t.service.add(add()).then(() => (answered = true));
    for (let i = 0; i < 20 && !answered; i++) await new Promise((r) => setImmediate(r));
    expect(answered).toBe(true);
    expect(attachmentsOf(t)).toBeUndefined();
    hold.release();
    await reply;
    await t.recorder.idle();
    expect(attachmentsOf(t)).toEqual([{ containerID: "c1", interface: "eth0", network: "macvlan" }]);
  });

  it("waits for a just-created Pod's record on the informer, not by polling the apiserver", async () => {
    const t = await setup({ endpointWaitMs: 10_000 });
    const started = t.clock.now();
    // The controller records the Pod 3 s after the ADD starts; the informer sees it at once.
    const appears = (): void => {
      if (t.clock.now() - started >= 3_000 && !t.endpoints.peek("web-0", "app")) t.record();
    };
    const cache = t.endpoints.cache();
    t.deps.endpointCache = { get: (n, ns) => (appears(), cache.get(n, ns)), list: () => cache.list() } satisfies Cache<SpiderEndpoint>;
    const get = t.endpoints.get.bind(t.endpoints);
    t.endpoints.get = (n, ns) => (appears(), get(n, ns));
    await new CniService(t.deps).add(add());
    // The look when the informer had nothing, then one safety look a second.
    expect(t.endpoints.reads.length).toBe(4);
    expect(t.clock.now() - started).toBeLessThan(3_100);
  });

  it("a crash between the answer and the write loses nothing: the next agent replays the journal, CHECK passes", async () => {
    const t = await setup();
    t.record();
    holdWrites(t.endpoints); // the write never lands: the agent dies first
    await t.service.add(add());
    // CHECK on the same agent already counts the pending write.
    await t.service.check(add());
    // A new agent over the same journal and the same apiserver.
    const store = t.endpoints;
    delete (store as Partial<typeof store>).replace; // back to the store's own method
    const next = recorderOver(store, t.clock, t.journalPath);
    expect(next.recorder.replay()).toBe(1);
    await next.recorder.idle();
    expect(attachmentsOf(t)).toEqual([{ containerID: "c1", interface: "eth0", network: "macvlan" }]);
    expect(next.journal.size).toBe(0);
    await new CniService({ ...t.deps, attachments: next.recorder }).check(add());
  });

  it("a DEL racing the late write of its ADD lands after it: the attachment stays forgotten", async () => {
    const t = await setup();
    t.record();
    const hold = holdWrites(t.endpoints);
    await t.service.add(add());
    const del = t.service.del(add());
    // A second sandbox's ADD for another NIC comes after the DEL and stays.
    await t.service.add(add({ containerID: "c2", network: "other" }));
    hold.release();
    await del;
    await t.recorder.idle();
    expect(attachmentsOf(t)).toEqual([{ containerID: "c2", interface: "eth0", network: "other" }]);
    expect((await failure(t.service.check(add()))).code).toBe(CNI_ERROR_CODES.UNKNOWN_CONTAINER);
  });

  it("a late write does not land on a later Pod of the same name", async () => {
    const t = await setup();
    const ep = t.record();
    const hold = holdWrites(t.endpoints);
    await t.service.add(add());
    // The Pod is re-created before the write lands: its endpoint now records the new uid.
    const current = ep.status?.current;
    if (!current) throw new Error("no status");
    const rewrite = t.endpoints.peek("web-0", "app") as SpiderEndpoint;
    t.endpoints.seed({ ...rewrite, status: { ...rewrite.status, current: { ...current, uid: "u2" } } });
    hold.release();
    await t.recorder.idle();
    expect(attachmentsOf(t)).toBeUndefined();
  });

  it("compacts the journal: empty once every write landed", async () => {
    const t = await setup();
    t.record();
    const { recorder, journal } = recorderOver(t.endpoints, t.clock);
    const service = new CniService({ ...t.deps, attachments: recorder });
    await service.add(add());
    await service.add(add({ containerID: "c2", network: "n2" }));
    expect(journal.size).toBe(2);
    await recorder.idle();
    expect(journal.size).toBe(0);
    expect(journal.read()).toEqual([]);
  });
});
