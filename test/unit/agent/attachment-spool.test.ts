import { afterEach, beforeEach, expect, it } from "@jest/globals";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AttachmentSpool } from "../../../agent/attachment-spool.js";
import type { AttachmentOp } from "../../../agent/attachments.js";
import { RecordingLog } from "../../fakes/log.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "spool-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const note = (containerID: string, pad = "") => JSON.stringify({ op: "add", namespace: "app", name: "web-0", uid: "u1", attachment: { containerID, interface: "eth0", network: "n" }, pad });

it("drops a note larger than its limit unread and records the others", () => {
  const recorded: AttachmentOp[] = [];
  const log = new RecordingLog();
  const spool = new AttachmentSpool(dir, { record: (op) => (recorded.push(op), Promise.resolve()) }, log, 1024);
  writeFileSync(join(dir, "1-a.json"), note("small"));
  writeFileSync(join(dir, "2-b.json"), note("big", "x".repeat(4096)));
  expect(spool.drain()).toBe(2);
  expect(recorded.map((op) => op.attachment.containerID)).toEqual(["small"]);
  expect(existsSync(join(dir, "2-b.json"))).toBe(false);
  expect(log.lines.filter((l) => l.level === "warn").map((l) => l.message)).toEqual(["dropping an attachment note larger than the limit, unread"]);
});

it("counts each ADD the plugin answered from an answer file, once, and nothing it could not read", () => {
  let answered = 0;
  const spool = new AttachmentSpool(dir, { record: () => Promise.resolve() }, new RecordingLog(), 1024, () => answered++);
  writeFileSync(join(dir, "1-a.json"), note("c1"));
  writeFileSync(join(dir, "2-b.json"), "not a note");
  writeFileSync(join(dir, "3-c.json"), note("c2"));
  spool.drain();
  spool.drain();
  expect(answered).toBe(2);
});
