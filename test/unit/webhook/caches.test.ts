import { describe, expect, it } from "@jest/globals";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { formatAssignedIPs } from "../../../ipam/annotations/assigned.js";
import type { PodLike } from "../../../ipam/kinds/pod.js";
import { clusterConfigFrom } from "../../../webhook/cluster-config.js";
import { ReservationIndex } from "../../../webhook/reconcile/reservation-index.js";
import { FakeInformer } from "../../fakes/informer.js";
import { RecordingLog } from "../../fakes/log.js";

const conf = (yaml: string): V1ConfigMap => ({ metadata: { name: "spiderpool-conf", namespace: "kube-system" }, data: { "conf.yml": yaml } });

describe("views the controller keeps over its informers", () => {
  it("the cluster configuration takes what the cache held before it was built, then follows changes", () => {
    const informer = new FakeInformer<V1ConfigMap>([conf("enableIPv6: true\n")]);
    const log = new RecordingLog();
    const current = clusterConfigFrom(informer, log);
    expect(current().enableIPv6).toBe(true);
    informer.set(conf("enableIPv6: [oops]\n"));
    expect(current().enableIPv6).toBe(true); // an invalid change keeps the previous configuration
    expect(log.at("error").map((l) => l.message)).toEqual(["conf.yml is invalid; keeping the previous cluster configuration"]);
    informer.set(conf("enableIPv6: false\n"));
    expect(current().enableIPv6).toBe(false);
  });

  it("the reservation index knows the Pods the cache held before it was built", () => {
    const pod = (name: string, reservation: string): PodLike => ({
      metadata: { name, namespace: "app", annotations: { "ipam.spidernet.io/assigned-ips": formatAssignedIPs({ reservation, ips: [{ interface: "eth0", ipv4: "10.6.0.5/24", ipv4Pool: "p", ipv4Token: 1 }] }) } },
    });
    const informer = new FakeInformer<PodLike>([pod("early", "r1")]);
    const index = new ReservationIndex(informer);
    expect(index.podWith("r1")).toBe("app/early");
    informer.set(pod("late", "r2"));
    expect(index.podWith("r2")).toBe("app/late");
    informer.remove(pod("late", "r2"));
    expect(index.podWith("r2")).toBeUndefined();
  });
});
