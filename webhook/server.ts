import express, { type NextFunction, type Request, type Response } from "express";
import { createServer as createHttpsServer, type Server } from "node:https";
import { constants as cryptoConstants } from "node:crypto";
import { createServer as createHttp2Server, type Http2Session } from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Logger } from "pino";
import type { ControllerMetrics } from "./metrics.js";
import { parseReview, type AdmissionHandler, type AdmissionRequest } from "./admission/review.js";
import { http2Listener } from "./express-http2.js";
import { startProbeServer } from "./probe-server.js";

export interface TlsMaterial {
  certPem: string;
  keyPem: string;
}

export interface HttpAnswer {
  status: number;
  body: unknown;
}

/** Who called a guarded route, as its guard found out (a TokenReview, a SubjectAccessReview). */
export interface Caller {
  username: string;
  /** The node the caller's token is bound to (`authentication.kubernetes.io/node-name`), if any. */
  node?: string;
}

/** Decides who may call a route from its Authorization header, before its body is read. */
export type Guard = (authorization: string | undefined) => Promise<{ caller: Caller } | { refuse: HttpAnswer }>;

/** A JSON route other than the admission webhooks: its guard runs first, then (for a POST) its body is read, up to `limit`. */
export interface GuardedRoute<In> {
  guard: Guard;
  /** The largest body a POST may carry (express's notation: "64kb"). */
  limit?: string;
  handle: (input: In, caller: Caller) => Promise<HttpAnswer>;
}

/** The clients the admission webhooks answer: certificates signed by this CA, and when `names` is not empty, with one of these common names. */
export interface AdmissionClients {
  caPem: string;
  names: readonly string[];
}

export interface ServerOptions {
  host: string;
  port: number;
  /** Offer HTTP/2 to clients that ask for it in the TLS handshake (default); false: HTTP/1.1 only. */
  http2?: boolean;
  /** Port of /metrics, /healthz and /readyz (plain HTTP). */
  metricsPort: number;
  tls: TlsMaterial;
  /** Who may call the admission webhooks; undefined: anyone (the check is off). */
  admissionClients?: AdmissionClients;
  /** path segment under /webhooks/ -> handler */
  handlers: Record<string, AdmissionHandler>;
  /** /readyz answers 200 only when this says so (caches synced, certificate loaded). */
  ready: () => boolean;
  metrics: ControllerMetrics;
  log: Logger;
  /** Called before each /metrics answer (gauges computed from caches). */
  beforeScrape?: () => void;
  /** JSON GET endpoints (the consistency report, the address history): path -> route(query). */
  gets?: Record<string, GuardedRoute<Record<string, string>>>;
  /** Other JSON POST endpoints (late allocation, the full scan): path -> route(body). */
  posts?: Record<string, GuardedRoute<unknown>>;
}

export interface WebhookServer {
  readonly port: number;
  readonly metricsPort: number;
  /** Swaps the serving certificate for new connections; open ones keep theirs. */
  setTls(tls: TlsMaterial): void;
  /** Stops accepting, lets requests in flight finish (up to `graceMs`), then closes. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Pool objects carry their allocation record: an UPDATE review holds two of them. Read only
 * once the client is known to be the apiserver.
 */
const ADMISSION_BODY_LIMIT = "16mb";
/** Late allocation and the other routes carry a few names. */
const ROUTE_BODY_LIMIT = "64kb";

/**
 * Answers a refusal and ends the caller's connection: HTTP/1.1 with `Connection: close`,
 * HTTP/2 (where that header is not allowed) by closing the session once the answer is out.
 */
function refuseAndClose(req: Request, res: Response, status: number, body: unknown): void {
  if (req.httpVersionMajor >= 2) {
    // Taken now: once the answer is out, its stream has left the session.
    const session = (req as unknown as { stream?: { session?: Http2Session } }).stream?.session;
    res.on("finish", () => session?.close());
  } else res.set("Connection", "close");
  res.status(status).json(body);
}

/** What a connection's client certificate makes of its caller for the admission routes: nothing (it may call them), or why it may not. */
type AdmissionVerdict = { refused?: string };
/** The verdict rides on the TLS socket (HTTP/2 requests reach it through their socket proxy). */
const ADMISSION_VERDICT = Symbol("admission verdict");
type JudgedSocket = TLSSocket & { [ADMISSION_VERDICT]?: AdmissionVerdict };

/** Judged once per connection: its certificate cannot change (renegotiation is off), and reading it costs a copy and three digests. */
function judgeAdmissionCaller(socket: TLSSocket, clients: AdmissionClients): AdmissionVerdict {
  const name = socket.authorized ? String(socket.getPeerCertificate().subject?.CN ?? "") : undefined;
  if (name !== undefined && (clients.names.length === 0 || clients.names.includes(name))) return {};
  return { refused: name === undefined ? `no client certificate signed by the admission clients' CA (${socket.authorizationError ?? "none presented"})` : `client certificate ${name} is not one of ${clients.names.join(", ")}` };
}

/** Refuses, before any byte of the body is read, an admission call that does not come from the apiserver. */
function admissionCaller(clients: AdmissionClients | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!clients) return next();
    const socket = req.socket as JudgedSocket;
    const { refused } = socket[ADMISSION_VERDICT] ?? judgeAdmissionCaller(socket, clients);
    if (refused === undefined) return next();
    refuseAndClose(req, res, 401, { message: `admission webhooks answer the kube-apiserver only: ${refused}; see docs/security.md` });
  };
}

/** Runs a route's guard before anything reads the body; the caller it finds rides on res.locals. */
function guarded(guard: Guard, log: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    guard(req.headers.authorization).then(
      (verdict) => {
        if ("refuse" in verdict) {
          refuseAndClose(req, res, verdict.refuse.status, verdict.refuse.body);
          return;
        }
        res.locals.caller = verdict.caller;
        next();
      },
      (err: unknown) => {
        log.error({ err, path: req.path }, "caller could not be checked");
        res.status(503).json({ message: `the caller could not be checked, try again: ${(err as Error).message}` });
      },
    );
  };
}

/** Answers a route's outcome, or a 500 naming the failure. */
function answering<In>(path: string, handle: GuardedRoute<In>["handle"], input: (req: Request) => In, log: Logger) {
  return async (req: Request, res: Response): Promise<void> => {
    try {
      const answer = await handle(input(req), res.locals.caller as Caller);
      res.status(answer.status).json(answer.body);
    } catch (err) {
      log.error({ err, path }, "request failed");
      res.status(500).json({ message: (err as Error).message });
    }
  };
}

/** A body that is not JSON or too large: a JSON answer naming which, never express's HTML page. */
function bodyErrors(err: { status?: number; type?: string; message?: string }, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) return next(err);
  const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 400;
  const message = err.type === "entity.too.large" ? `the request body cannot be read: it is larger than this route accepts (${err.message ?? ""})` : `the request body cannot be read: it is not valid JSON (${err.message ?? ""})`;
  res.status(status).json({ message });
}

/** The routes of the HTTPS port: the admission webhooks (apiserver only) and the guarded JSON routes. */
function createApp(opts: ServerOptions): express.Express {
  const app = express();
  app.disable("x-powered-by");
  for (const [path, route] of Object.entries(opts.gets ?? {})) {
    const query = (req: Request): Record<string, string> => Object.fromEntries(Object.entries(req.query).filter((e): e is [string, string] => typeof e[1] === "string"));
    app.get(path, guarded(route.guard, opts.log), answering(path, route.handle, query, opts.log));
  }
  for (const [path, route] of Object.entries(opts.posts ?? {})) {
    const body = (req: Request): unknown => req.body as unknown;
    app.post(path, guarded(route.guard, opts.log), express.json({ limit: route.limit ?? ROUTE_BODY_LIMIT }), answering(path, route.handle, body, opts.log));
  }
  app.post("/webhooks/:name", admissionCaller(opts.admissionClients), express.json({ limit: ADMISSION_BODY_LIMIT }), (req: Request<{ name: string }>, res: Response) => serveAdmission(opts, req, res));
  app.use(bodyErrors);
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
  const app = createApp(opts);
  // No renegotiation: a connection's client certificate is judged once, when it is made.
  const context = (tls: TlsMaterial) => ({ cert: tls.certPem, key: tls.keyPem, minVersion: "TLSv1.2" as const, secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION, ...(opts.admissionClients ? { ca: opts.admissionClients.caPem } : {}) });
  // A client certificate is asked for, not required: the agents and operators authenticate
  // with bearer tokens on their routes; the admission routes refuse calls without one.
  const server: Server = createHttpsServer({ ...context(opts.tls), requestCert: opts.admissionClients !== undefined, rejectUnauthorized: false, ALPNProtocols: opts.http2 === false ? ["http/1.1"] : ["h2", "http/1.1"] }, app);
  // The apiserver keeps connections alive; keep ours open a little longer than its idle timeout.
  server.keepAliveTimeout = 95_000;
  // HTTP/2 when the client offers it. The kube-apiserver offers it to a webhook at a loopback
  // URL (for a Service or another host it keeps to HTTP/1.1, to spread calls over replicas)
  // and then sends every admission over one connection; over HTTP/1.1 it keeps 25 idle
  // connections at most, so a burst opened new ones: a TLS handshake each, both sides.
  const h2 = createHttp2Server({ settings: { maxConcurrentStreams: 250 } }, http2Listener(app));
  h2.setTimeout(server.keepAliveTimeout);
  const sessions = new Set<Http2Session>();
  h2.on("session", (s: Http2Session) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  // The HTTPS server's own listener serves HTTP/1.1 (keep-alive, header timeouts, idle
  // tracking); a connection that agreed on h2 goes to the HTTP/2 server instead.
  const serveHttp1 = server.listeners("secureConnection") as ((s: TLSSocket) => void)[];
  server.removeAllListeners("secureConnection");
  const clients = opts.admissionClients;
  server.on("secureConnection", (s: JudgedSocket) => {
    if (clients) s[ADMISSION_VERDICT] = judgeAdmissionCaller(s, clients);
    const protocol = s.alpnProtocol === "h2" ? "h2" : "http/1.1";
    opts.metrics.connections.inc({ protocol });
    if (protocol === "h2") h2.emit("connection", s);
    else for (const listener of serveHttp1) listener.call(server, s);
  });
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
  log.info({ host: opts.host, port, clientCertificates: opts.admissionClients !== undefined }, "admission server listening");
  const probes = await startProbeServer({ host: opts.host, port: opts.metricsPort, ready: opts.ready, draining: () => draining, metrics: opts.metrics, log, ...(opts.beforeScrape ? { beforeScrape: opts.beforeScrape } : {}) });

  return {
    port,
    metricsPort: probes.port,
    setTls(tls) {
      server.setSecureContext(context(tls));
    },
    async close(graceMs = 10_000) {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      for (const s of sessions) s.close();
      const timer = setTimeout(() => {
        for (const s of sockets) s.destroy();
      }, graceMs);
      await closed;
      clearTimeout(timer);
      probes.server.closeAllConnections();
      await new Promise<void>((resolve) => probes.server.close(() => resolve()));
    },
  };
}
