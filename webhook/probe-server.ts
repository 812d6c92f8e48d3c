import express from "express";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { ControllerMetrics } from "./metrics.js";

export interface ProbeServerOptions {
  host: string;
  port: number;
  /** /readyz answers 200 only when this says so. */
  ready: () => boolean;
  /** Why not ready while shutting down ("shutting down"), else undefined. */
  draining: () => boolean;
  metrics: ControllerMetrics;
  /** Called before each /metrics answer (gauges computed from caches). */
  beforeScrape?: () => void;
  log: Logger;
}

/**
 * /metrics, /healthz and /readyz on a plain-HTTP port of their own: what Prometheus and the
 * kubelet's probes reach. Nothing here changes state and no route takes a body, so the
 * port can be opened to the monitoring network without opening the admission port.
 */
export async function startProbeServer(o: ProbeServerOptions): Promise<{ port: number; server: Server }> {
  const app = express();
  app.disable("x-powered-by");
  app.get("/healthz", (_req, res) => {
    res.type("text/plain").send("ok");
  });
  app.get("/readyz", (_req, res) => {
    const ok = !o.draining() && o.ready();
    res.status(ok ? 200 : 503).type("text/plain").send(ok ? "ok" : o.draining() ? "shutting down" : "not ready");
  });
  app.get("/metrics", async (_req, res) => {
    o.beforeScrape?.();
    res.type(o.metrics.registry.contentType).send(await o.metrics.registry.metrics());
  });
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  o.log.info({ host: o.host, port }, "metrics and probes listening");
  return { port, server };
}
