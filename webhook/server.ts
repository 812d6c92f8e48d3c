import express, { type Request, type Response } from "express";
import { createServer as createHttpsServer, type Server } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Logger } from "pino";
import type { ControllerMetrics } from "./metrics.js";
import { parseReview, type AdmissionHandler, type AdmissionRequest } from "./admission/review.js";

export interface TlsMaterial {
  certPem: string;
  keyPem: string;
}

export interface ServerOptions {
  host: string;
  port: number;
  tls: TlsMaterial;
  /** path segment under /webhooks/ -> handler */
  handlers: Record<string, AdmissionHandler>;
  /** /readyz answers 200 only when this says so (caches synced, certificate loaded). */
  ready: () => boolean;
  metrics: ControllerMetrics;
  log: Logger;
  /** Called before each /metrics answer (gauges computed from caches). */
  beforeScrape?: () => void;
  /** JSON GET endpoints (the consistency report, the address history): path -> handler(query). */
  gets?: Record<string, (query: Record<string, string>) => Promise<{ status: number; body: unknown }>>;
  /** Other JSON POST endpoints (late allocation): path -> handler(body, Authorization header). */
  posts?: Record<string, (body: unknown, authorization: string | undefined) => Promise<{ status: number; body: unknown }>>;
}

export interface WebhookServer {
  readonly port: number;
  /** Swaps the serving certificate for new connections; open ones keep theirs. */
  setTls(tls: TlsMaterial): void;
  /** Stops accepting, lets requests in flight finish (up to `graceMs`), then closes. */
  close(graceMs?: number): Promise<void>;
}

/** The routes: probes, metrics, the other POST endpoints and the admission webhooks. */
function createApp(opts: ServerOptions, draining: () => boolean): express.Express {
  const { metrics } = opts;
  const app = express();
  app.disable("x-powered-by");
  // Pool objects carry their allocation record: an UPDATE review holds two of them.
  app.use(express.json({ limit: "16mb" }));

  app.get("/healthz", (_req, res) => {
    res.type("text/plain").send("ok");
  });
  app.get("/readyz", (_req, res) => {
    const ok = !draining() && opts.ready();
    res.status(ok ? 200 : 503).type("text/plain").send(ok ? "ok" : draining() ? "shutting down" : "not ready");
  });
  app.get("/metrics", async (_req, res) => {
    opts.beforeScrape?.();
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  for (const [path, handle] of Object.entries(opts.gets ?? {})) {
    app.get(path, async (req: Request, res: Response) => {
      try {
        const query = Object.fromEntries(Object.entries(req.query).filter((e): e is [string, string] => typeof e[1] === "string"));
        const answer = await handle(query);
        res.status(answer.status).json(answer.body);
      } catch (err) {
        opts.log.error({ err, path }, "request failed");
        res.status(500).json({ message: (err as Error).message });
      }
    });
  }
  for (const [path, handle] of Object.entries(opts.posts ?? {})) {
    app.post(path, async (req: Request, res: Response) => {
      try {
        const answer = await handle(req.body, req.headers.authorization);
        res.status(answer.status).json(answer.body);
      } catch (err) {
        opts.log.error({ err, path }, "request failed");
        res.status(500).json({ message: (err as Error).message });
      }
    });
  }
  app.post("/webhooks/:name", (req: Request<{ name: string }>, res: Response) => serveAdmission(opts, req, res));
  // A body express cannot read (not JSON, not an object or list, too large) answers JSON
  // naming what is wrong, not express' HTML page (found by test/integration/fuzz-node.test.ts).
  app.use((err: { status?: number; message?: string }, _req: Request, res: Response, _next: express.NextFunction) => {
    const status = typeof err.status === "number" && err.status >= 400 && err.status < 500 ? err.status : 400;
    res.status(status).json({ message: `the request body cannot be read: ${err.message ?? "unreadable"}` });
  });
  return app;
}

/** One AdmissionReview: parsed, handed to the webhook's handler, counted and timed. */
async function serveAdmission(opts: ServerOptions, req: Request<{ name: string }>, res: Response): Promise<void> {
  const { metrics, log } = opts;
  const name = req.params.name;
  const handler = opts.handlers[name];
  if (!handler) {
    res.status(404).json({ message: `no admission webhook at /webhooks/${name}` });
    return;
  }
  let review: AdmissionRequest;
  try {
    review = parseReview(req.body);
  } catch (err) {
    metrics.admissionRequests.inc({ webhook: name, operation: "unknown", result: "error" });
    res.status(400).json({ message: `bad AdmissionReview: ${(err as Error).message}` });
    return;
  }
  const end = metrics.admissionDuration.startTimer({ webhook: name });
  try {
    const answer = await handler(review);
    const result = answer.response?.allowed ? "allowed" : "denied";
    metrics.admissionRequests.inc({ webhook: name, operation: review.operation, result });
    res.json(answer);
  } catch (err) {
    metrics.admissionRequests.inc({ webhook: name, operation: review.operation, result: "error" });
    log.error({ err, webhook: name, uid: review.uid, operation: review.operation }, "admission handler failed");
    res.status(500).json({ message: `admission webhook ${name} failed: ${(err as Error).message}` });
  } finally {
    end();
  }
}

export async function startWebhookServer(opts: ServerOptions): Promise<WebhookServer> {
  const { log } = opts;
  let draining = false;
  const app = createApp(opts, () => draining);
  const server: Server = createHttpsServer({ cert: opts.tls.certPem, key: opts.tls.keyPem, minVersion: "TLSv1.2" }, app);
  // The apiserver keeps connections alive; keep ours open a little longer than its idle timeout.
  server.keepAliveTimeout = 95_000;
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ host: opts.host, port }, "admission server listening");

  return {
    port,
    setTls(tls) {
      server.setSecureContext({ cert: tls.certPem, key: tls.keyPem, minVersion: "TLSv1.2" });
    },
    async close(graceMs = 10_000) {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        for (const s of sockets) s.destroy();
      }, graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
