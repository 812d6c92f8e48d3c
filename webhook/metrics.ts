import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The controller's Prometheus metrics, in a private registry (never prom-client's global
 * one, so two controllers in one process, as in the tests, do not collide).
 */
export class ControllerMetrics {
  readonly registry = new Registry();

  readonly admissionRequests = new Counter({
    name: "spiderpool_webhook_requests_total",
    help: "Admission reviews answered, by webhook, operation and result (allowed, denied, error).",
    labelNames: ["webhook", "operation", "result"] as const,
    registers: [this.registry],
  });

  readonly admissionDuration = new Histogram({
    name: "spiderpool_webhook_request_duration_seconds",
    help: "Time to answer an admission review, by webhook.",
    labelNames: ["webhook"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly certificateRotations = new Counter({
    name: "spiderpool_webhook_certificate_rotations_total",
    help: "Serving certificate and CA rotations performed, by what was rotated (serving, ca).",
    labelNames: ["what"] as const,
    registers: [this.registry],
  });

  constructor(processMetrics = false) {
    if (processMetrics) {
      const prefix = "spiderpool_controller_";
      collectDefaultMetrics({ register: this.registry, prefix });
      // Gauges named *_total break Prometheus naming rules (promtool says so); drop them.
      for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) {
        this.registry.removeSingleMetric(prefix + name);
      }
    }
  }
}
