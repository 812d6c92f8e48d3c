import { describe, expect, it } from "@jest/globals";
import { KubeConfig } from "@kubernetes/client-node";
import { eventRecorder } from "../../../k8s/events.js";
import { TokenBucket } from "../../../runtime/token-bucket.js";
import { RecordingLog } from "../../fakes/log.js";

/**
 * Normal Events are written within a budget, Warnings always. Against an apiserver address
 * that refuses connections, every Event the recorder tries to write is logged as not
 * recorded, so the log tells which were tried and which were dropped.
 */
describe("eventRecorder", () => {
  it("drops Normal Events beyond its budget, never a Warning, and says how many it dropped", async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "c", server: "https://127.0.0.1:1", skipTLSVerify: true }],
      users: [{ name: "u", token: "t" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    let now = 0;
    const log = new RecordingLog();
    const record = eventRecorder(kc, "test", "i", log, new TokenBucket({ perSecond: 1, burst: 2 }, () => now));
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "n" } };
    for (let i = 0; i < 4; i++) await record(pod, "Normal", "IPReserved", `event ${i}`);
    await record(pod, "Warning", "InvalidAssignedIPs", "bad");
    const tried = (): string[] => log.lines.filter((l) => l.message === "could not record an event").map((l) => String((l.fields as { reason?: string }).reason));
    expect(tried()).toEqual(["IPReserved", "IPReserved", "InvalidAssignedIPs"]);
    now += 1000;
    await record(pod, "Normal", "IPReleased", "later");
    expect(tried()).toEqual(["IPReserved", "IPReserved", "InvalidAssignedIPs", "IPReleased"]);
    const summary = log.lines.find((l) => l.message === "Normal events dropped over the budget");
    expect((summary?.fields as { dropped?: number } | undefined)?.dropped).toBe(2);
  });
});
