import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { EventRecorder, Log } from "../ipam/ports.js";

/**
 * Kubernetes Events from one component (core/v1 Events, which `kubectl describe` shows).
 * An Event that cannot be written is logged and dropped: Events are for people, never a
 * reason to fail the work they describe.
 */
export function eventRecorder(kc: KubeConfig, component: string, instance: string, log: Log): EventRecorder {
  const core = kc.makeApiClient(CoreV1Api);
  return async (subject, type, reason, message) => {
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
