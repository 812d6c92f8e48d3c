import { describe, expect, it } from "@jest/globals";
import { AgentFailure } from "../../../agent/cni-service.js";
import { agentRequest, gcRequest } from "../../../agent/request-shape.js";

const good = { containerID: "c", netns: "/n", ifName: "eth0", network: "net", podNamespace: "a", podName: "b", cniVersion: "1.0.0", ipam: {} };

function refusal(fn: () => unknown): AgentFailure {
  try {
    fn();
  } catch (err) {
    if (err instanceof AgentFailure) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("the socket's request shapes", () => {
  it("passes what the plugin sends", () => {
    expect(agentRequest(good)).toBe(good);
    expect(gcRequest({ network: "net", validAttachments: [{ containerID: "c", ifname: "eth0" }] }).validAttachments).toHaveLength(1);
  });

  // Found by test/integration/fuzz-node.test.ts: a GC whose validAttachments was a string
  // threw a TypeError inside the service, answered 503 "try again later" for ever.
  it.each([
    ["validAttachments", () => gcRequest({ network: "n", validAttachments: "\u0000" })],
    ["validAttachments[0]", () => gcRequest({ network: "n", validAttachments: [{ containerID: 1 }] })],
    ["podName", () => agentRequest({ ...good, podName: ["x"] })],
    ["ipam", () => agentRequest({ ...good, ipam: "x" })],
    ["body", () => agentRequest([])],
    // Found by the same fuzzing: a name the apiserver refuses (400) was answered 503 for ever.
    ["podName", () => agentRequest({ ...good, podName: "%2F" })],
    ["podNamespace", () => agentRequest({ ...good, podNamespace: "Fuzz" })],
  ])("refuses a bad %s with code 6 naming it", (field, fn) => {
    const err = refusal(fn);
    expect(err.code).toBe(6);
    expect(err.message).toContain(field);
  });
});
