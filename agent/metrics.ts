import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { registerProcessMetrics } from "../runtime/process-metrics.js";

/**
 * The agent's Prometheus metrics, in a private registry (never prom-client's global one, so
 * several agents in one process, as in the tests, do not collide).
 */
export class AgentMetrics {
  readonly registry = new Registry();

  readonly cniRequests = new Counter({
    name: "spiderpool_agent_cni_requests_total",
    help: "CNI requests answered, by command and result.",
    labelNames: ["command", "result"] as const,
    registers: [this.registry],
  });

  readonly cniDuration = new Histogram({
    name: "spiderpool_agent_cni_request_duration_seconds",
    help: "Time to answer a CNI request, by command.",
    labelNames: ["command"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });

  readonly answerFileAdds = new Counter({
    name: "spiderpool_agent_answer_file_adds_total",
    help: "ADDs the plugin answered from an answer file, with no request on the socket (counted from the notes it leaves the agent); spiderpool_agent_cni_requests_total counts the others.",
    registers: [this.registry],
  });

  readonly recordLooks = new Counter({
    name: "spiderpool_agent_endpoint_lookups_total",
    help: "Where ADD and CHECK looked for a Pod's SpiderEndpoint: its informer (no round trip) or the apiserver (a miss, a stale copy, or a wait).",
    labelNames: ["source"] as const,
    registers: [this.registry],
  });

  readonly attachmentWritesPending = new Gauge({
    name: "spiderpool_agent_attachment_writes_pending",
    help: "Attachment writes to SpiderEndpoints answered but not yet written (journaled).",
    registers: [this.registry],
  });

  constructor(processMetrics = false) {
    if (processMetrics) registerProcessMetrics(this.registry, "spiderpool_agent_");
  }

  /** One CNI request answered. */
  observe(command: string, result: "ok" | "error", seconds: number): void {
    this.cniRequests.inc({ command, result });
    this.cniDuration.observe({ command }, seconds);
  }
}
