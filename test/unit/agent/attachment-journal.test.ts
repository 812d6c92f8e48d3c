import { describe, expect, it } from "@jest/globals";
import { appendFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileJournal } from "../../../agent/attachment-journal.js";
import { AttachmentRecorder, type AttachmentOp } from "../../../agent/attachments.js";
import type { SpiderEndpoint } from "../../../ipam/kinds/endpoint.js";
import { FakeClock } from "../../fakes/clock.js";
import { RecordingLog } from "../../fakes/log.js";
import { FakeStore } from "../../fakes/store.js";

const op = (name: string, containerID: string): AttachmentOp => ({ op: "add", namespace: "app", name, uid: "u1", attachment: { containerID, interface: "eth0", network: "n" } });
const path = (): string => join(mkdtempSync(join(tmpdir(), "journal-")), "agent.sock.attachments");

describe("the attachment journal file", () => {
  it("reads back what was appended, in order, and skips a torn last line", () => {
    const file = path();
    const j = fileJournal(file, new RecordingLog());
    j.append(op("a", "c1"));
    j.append(op("b", "c2"));
    appendFileSync(file, '{"op":"add","namespace":"app","na');
    const log = new RecordingLog();
    expect(fileJournal(file, log).read()).toEqual([op("a", "c1"), op("b", "c2")]);
  });

  it("is compacted to the pending ops once it grows past 1024 while writes are still pending", async () => {
    const endpoints = new FakeStore<SpiderEndpoint>({ statusSubresource: false });
    for (const name of ["slow", "fast"]) endpoints.seed({ metadata: { name, namespace: "app" }, status: { current: { uid: "u1", ips: [] } } });
    const write = endpoints.replace.bind(endpoints);
    // The apiserver never answers for "slow": its op stays pending throughout.
    endpoints.replace = (obj) => (obj.metadata.name === "slow" ? new Promise(() => undefined) : write(obj));
    const journal = fileJournal(path(), new RecordingLog());
    const recorder = new AttachmentRecorder({ endpoints, journal, clock: new FakeClock(), log: new RecordingLog(), defer: (fn) => setImmediate(fn) });
    void recorder.record(op("slow", "s1"));
    for (let i = 0; i < 1100; i++) await recorder.record(op("fast", `c${i}`));
    expect(journal.size).toBeLessThan(100); // the slow op and the ones since the compaction
    expect(journal.read()[0]).toEqual(op("slow", "s1"));
  });
});
