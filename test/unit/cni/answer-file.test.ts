import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentReply, AgentTransport } from "../../../cni/agent-client.js";
import { fileFastPath } from "../../../cni/answer-file.js";
import { type PluginIO, runPlugin } from "../../../cni/plugin.js";
import type { AnswerFile } from "../../../cni/protocol.js";
import { K8S_ARGS, netconf } from "./helpers.js";

/** ADD's fast path through the real file layout: answers beside the socket, notes in the spool. */
let tmp: string;
let socket: string;
let calls: number;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "cni-fast-"));
  socket = join(tmp, "agent.sock");
  mkdirSync(`${socket}.answers`);
  mkdirSync(`${socket}.spool`);
  calls = 0;
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const UID = "0b8e-11"; // K8S_ARGS' uid
const viaSocket: AgentReply = { status: 200, body: { ips: [{ interface: "eth0", address: "10.9.9.9/24", family: 4 }], routes: [] }, text: "" };
const agent: AgentTransport = {
  socketPath: "/unused",
  call: () => {
    calls++;
    return Promise.resolve(viaSocket);
  },
};
const file = (over: Partial<AnswerFile> = {}): AnswerFile => ({
  namespace: "default",
  name: "web-0",
  uid: UID,
  nics: { eth0: { ips: [{ interface: "eth0", address: "10.6.0.5/24", gateway: "10.6.0.1", family: 4 }], routes: [{ dst: "0.0.0.0/0", gw: "10.6.0.1" }] } },
  ...over,
});
const writeAnswer = (f: AnswerFile | string, uid = UID): void => writeFileSync(join(`${socket}.answers`, `${uid}.json`), typeof f === "string" ? f : JSON.stringify(f));

const add = (args = K8S_ARGS): Promise<{ stdout: string; exitCode: number }> => {
  const io: PluginIO = {
    env: { CNI_COMMAND: "ADD", CNI_CONTAINERID: "c0ffee", CNI_NETNS: "/var/run/netns/x", CNI_IFNAME: "eth0", CNI_ARGS: args },
    readStdin: () => netconf({}, { ipam_unix_socket_path: socket }),
    stderr: () => undefined,
    openLogFile: () => () => undefined,
    connect: () => agent,
    fastPath: fileFastPath,
  };
  return runPlugin(io);
};
const notes = (): unknown[] => readdirSync(`${socket}.spool`).map((n) => JSON.parse(readFileSync(join(`${socket}.spool`, n), "utf8")) as unknown);

describe("ADD from the agent's answer file", () => {
  it("answers without asking the agent, and leaves a note of the attachment in the spool", async () => {
    writeAnswer(file());
    const out = await add();
    expect(out.exitCode).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({ cniVersion: "1.0.0", ips: [{ address: "10.6.0.5/24", gateway: "10.6.0.1" }], routes: [{ dst: "0.0.0.0/0", gw: "10.6.0.1" }] });
    expect(calls).toBe(0);
    expect(notes()).toEqual([{ op: "add", namespace: "default", name: "web-0", uid: UID, attachment: { containerID: "c0ffee", interface: "eth0", network: "macvlan-eth0" } }]);
    expect(readdirSync(`${socket}.spool`)[0]).toMatch(/^\d{15}-c0ffee-eth0\.json$/);
  });

  it.each([
    ["no file for the Pod", undefined],
    ["a file of another Pod of that name", file({ uid: "another" })],
    ["a file of another namespace", file({ namespace: "other" })],
    ["no answer for this NIC", file({ nics: {} })],
    ["a file that is not JSON", "{"],
    ["an answer not in the protocol's shape", file({ nics: { eth0: { ips: [{ interface: "eth0", address: "nope", family: 4 }], routes: [] } } })],
  ])("asks the agent instead when there is %s, and spools nothing", async (_what, f) => {
    if (f !== undefined) writeAnswer(f);
    const out = await add();
    expect(out.exitCode).toBe(0);
    expect(calls).toBe(1);
    expect(JSON.parse(out.stdout)).toMatchObject({ ips: [{ address: "10.9.9.9/24" }] });
    expect(notes()).toEqual([]);
  });

  it("asks the agent when the note cannot be spooled: no answer goes unrecorded", async () => {
    writeAnswer(file());
    rmSync(`${socket}.spool`, { recursive: true });
    expect((await add()).exitCode).toBe(0);
    expect(calls).toBe(1);
  });

  it("never uses a runtime's uid that is not a uid as a file name", async () => {
    writeFileSync(join(tmp, "escape.json"), JSON.stringify(file({ uid: "../escape" })));
    await add(K8S_ARGS.replace(`K8S_POD_UID=${UID}`, "K8S_POD_UID=../escape"));
    expect(calls).toBe(1);
    // And without a uid at all there is no fast path.
    writeAnswer(file());
    await add(K8S_ARGS.replace(`;K8S_POD_UID=${UID}`, ""));
    expect(calls).toBe(2);
  });
});
