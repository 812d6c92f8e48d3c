/**
 * The agent's answer to the coordinator plugin (POST /v1/coordinator/config): the cluster's
 * defaults from SpiderCoordinator `default`, and the Pod's default-route NIC annotation,
 * both from the agent's caches.
 */
import { ANNO_DEFAULT_ROUTE_NIC, DEFAULT_COORDINATOR, coordinatorDefaults, type SpiderCoordinator } from "../ipam/kinds/coordinator.js";
import type { PodLike } from "../ipam/kinds/pod.js";
import type { Cache } from "../ipam/ports.js";
import { CNI_ERROR_CODES, type CoordinatorConfigAnswer } from "../cni/protocol.js";
import { AgentFailure } from "./cni-service.js";

export interface CoordinatorConfigDeps {
  coordinators: Cache<SpiderCoordinator>;
  pods: Cache<PodLike>;
  /** Both caches have their first list. */
  ready(): boolean;
}

export function coordinatorConfigAnswer(d: CoordinatorConfigDeps, input: unknown): CoordinatorConfigAnswer {
  const req = (input ?? {}) as { podNamespace?: unknown; podName?: unknown };
  if (typeof req.podNamespace !== "string" || typeof req.podName !== "string" || req.podNamespace === "" || req.podName === "") {
    throw new AgentFailure(CNI_ERROR_CODES.DECODING_FAILURE, "the coordinator's request names no Pod", "expected {podNamespace, podName}");
  }
  if (!d.ready()) throw new AgentFailure(CNI_ERROR_CODES.TRY_AGAIN_LATER, "spiderpool-agent is starting: its caches are not synced yet");
  const answer: CoordinatorConfigAnswer = { defaults: coordinatorDefaults(d.coordinators.get(DEFAULT_COORDINATOR)) };
  const nic = d.pods.get(req.podName, req.podNamespace)?.metadata?.annotations?.[ANNO_DEFAULT_ROUTE_NIC];
  if (nic) answer.podDefaultRouteNIC = nic;
  return answer;
}
