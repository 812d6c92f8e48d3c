import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { EventRecorder, Log } from "../ipam/ports.js";
import { TokenBucket } from "../runtime/token-bucket.js";

/**
 * How many Normal Events (an address reserved, released) a replica writes: a few Pods get
 * theirs at once, while a burst of hundreds of Pods a second writes at most this many, since
 * each Event is an apiserver write (in the 1,000-Pod scenario about one write in four of
 * the controller's) and nobody reads hundreds of them. Warnings are always written.
 */
export const NORMAL_EVENTS = { perSecond: 10, burst: 100 };

/**
 * Kubernetes Events from one component (core/v1 Events, which `kubectl describe` shows).
 * An Event that cannot be written is logged and dropped: Events are for people, never a
 * reason to fail the work they describe. Normal Events beyond `normal` are dropped and
 * counted in the log.
 */
export function eventRecorder(kc: KubeConfig, component: string, instance: string, log: Log, normal: TokenBucket = new TokenBucket(NORMAL_EVENTS, Date.now)): EventRecorder {
  const core = kc.makeApiClient(CoreV1Api);
  let dropped = 0;
  return async (subject, type, reason, message) => {
    if (type === "Normal" && !normal.take()) {
      if (dropped++ === 0) log.info({ budget: NORMAL_EVENTS }, "Normal events beyond the budget are dropped until it refills; the count is logged when one is written again");
      return;
    }
    if (dropped > 0) {
      log.info({ dropped }, "Normal events dropped over the budget");
      dropped = 0;
    }
    const namespace = subject.metadata.namespace ?? "default";
    const now = new Date();
    try {
      await core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${subject.metadata.name ?? subject.kind.toLowerCase()}.`, namespace },
          involvedObject: { apiVersion: subject.apiVersion, kind: subject.kind, name: subject.metadata.name, namespace: subject.metadata.namespace, uid: subject.metadata.uid },
          type,
          reason,
          message,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          source: { component },
          reportingComponent: component,
          reportingInstance: instance,
        },
      });
    } catch (err) {
      log.warn({ err, reason, object: `${subject.kind} ${subject.metadata.namespace ?? ""}/${subject.metadata.name ?? ""}` }, "could not record an event");
    }
  };
}
