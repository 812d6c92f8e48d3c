import { chmodSync, lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import type { Logger } from "pino";
import { AGENT_PATHS, CNI_ERROR_CODES, type AgentError } from "../cni/protocol.js";
import type { Clock } from "../ipam/ports.js";
import { poll } from "../ipam/retry.js";
import { systemClock } from "../runtime/clock.js";
import { AgentFailure, type CniService } from "./cni-service.js";
import { agentRequest, checkRequest, gcRequest } from "./request-shape.js";
import { acquireSocketLock, type SocketLock } from "./socket-lock.js";

export interface SocketMetrics {
  observe(command: string, result: "ok" | "error", seconds: number): void;
}

/** A body past the limit: answered 413 and the connection closed, nothing of it parsed. */
class BodyTooLarge extends AgentFailure {}

/** The request body as JSON, read only up to `limit` bytes (the declared length is checked first). */
async function body(req: IncomingMessage, limit: number): Promise<unknown> {
  const tooLarge = () => new BodyTooLarge(CNI_ERROR_CODES.DECODING_FAILURE, `the agent takes request bodies of at most ${limit} bytes`, "setting --max-body-bytes / SPIDERPOOL_AGENT_MAX_BODY_BYTES");
  if (Number(req.headers["content-length"] ?? 0) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw tooLarge();
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    throw new AgentFailure(CNI_ERROR_CODES.DECODING_FAILURE, "the agent received a request body that is not JSON");
  }
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function statusOf(err: AgentFailure): number {
  if (err instanceof BodyTooLarge) return 413;
  return err.code === CNI_ERROR_CODES.TRY_AGAIN_LATER ? 503 : 409;
}

/**
 * The CNI plugin's door: HTTP/1.1 on a unix socket that only root can open (mode 0600),
 * speaking cni/protocol.ts. Every failure becomes an AgentError with a CNI code; anything
 * unexpected (the apiserver unreachable, say) is "try again later" so the runtime retries.
 */
export type SocketRoutes = Record<string, (input: unknown) => Promise<unknown>>;

export interface SocketOptions {
  /** Routes beyond the IPAM plugin's, keyed "METHOD /path" (the coordinator's). */
  routes?: SocketRoutes;
  /** Request bodies past this many bytes are refused (413) before parsing. */
  maxBodyBytes?: number;
  /** How long to wait for another agent serving the path to stop (0: as long as it takes). */
  lockWaitMs?: number;
  clock?: Clock;
  /** The lock on the path, taken earlier by the caller (the agent takes it before touching anything beside the socket). */
  lock?: SocketLock;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

function ipamRoutes(service: CniService): SocketRoutes {
  return {
    [`POST ${AGENT_PATHS.add}`]: (i) => service.add(agentRequest(i)),
    [`POST ${AGENT_PATHS.del}`]: async (i) => {
      await service.del(agentRequest(i));
      return {};
    },
    [`POST ${AGENT_PATHS.check}`]: async (i) => {
      await service.check(checkRequest(i));
      return {};
    },
    [`POST ${AGENT_PATHS.gc}`]: (i) => service.gc(gcRequest(i)),
    [`GET ${AGENT_PATHS.status}`]: () => {
      service.status();
      return Promise.resolve({});
    },
  };
}

function createSocketHttpServer(routes: SocketRoutes, limit: number, metrics: SocketMetrics, log: Logger): Server {
  return createServer((req, res) => {
    const route = `${req.method ?? ""} ${req.url ?? ""}`;
    const handler = routes[route];
    const command = (req.url ?? "").split("/").pop() ?? "unknown";
    const started = process.hrtime.bigint();
    const done = (result: "ok" | "error"): void => metrics.observe(command, result, Number(process.hrtime.bigint() - started) / 1e9);
    if (!handler) {
      send(res, 404, { code: CNI_ERROR_CODES.AGENT_BAD_ANSWER, msg: `spiderpool-agent has no ${route}` } satisfies AgentError);
      return;
    }
    body(req, limit)
      .then((input) => handler(input))
      .then((out) => {
        done("ok");
        send(res, 200, out);
      })
      .catch((err: unknown) => {
        done("error");
        const input = { route };
        if (err instanceof AgentFailure) {
          log.info({ ...input, code: err.code, msg: err.message, details: err.details }, "CNI request refused");
          // The rest of a body past the limit is not read: close the connection once answered.
          if (err instanceof BodyTooLarge) res.once("finish", () => req.socket.destroy()).setHeader("connection", "close");
          send(res, statusOf(err), { code: err.code, msg: err.message, ...(err.details ? { details: err.details } : {}), ...(err.reason ? { reason: err.reason } : {}) } satisfies AgentError);
        } else {
          log.error({ ...input, err }, "CNI request failed");
          send(res, 503, { code: CNI_ERROR_CODES.TRY_AGAIN_LATER, msg: `spiderpool-agent could not complete ${command}`, details: (err as Error).message } satisfies AgentError);
        }
      });
  });
}

/** Whether something accepts connections on `path` (an agent this one's lock cannot see). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(path);
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

/**
 * Listens in a private folder (mode 0700, beside the path), sets the socket's mode there, and
 * renames it onto the path: the socket is never at its path with another mode, whatever the
 * umask. The rename replaces a file a dead agent left in one step.
 */
async function listenPrivately(server: Server, path: string): Promise<number> {
  const dir = mkdtempSync(join(dirname(path), ".sp-"));
  try {
    const inside = join(dir, "s");
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(inside, () => resolve());
    });
    chmodSync(inside, 0o600);
    renameSync(inside, path);
    return lstatSync(path).ino;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startSocketServer(path: string, service: CniService, metrics: SocketMetrics, log: Logger, opts: SocketOptions = {}): Promise<{ close(): Promise<void> }> {
  const clock = opts.clock ?? systemClock;
  const waitMs = opts.lockWaitMs ?? 0;
  mkdirSync(dirname(path), { recursive: true });
  // A lock the caller took is the caller's to release (after its own work beside the socket).
  const owned = opts.lock === undefined;
  const lock = opts.lock ?? (await acquireSocketLock(path, { clock, log, waitMs }));
  const release = () => (owned ? lock.release() : Promise.resolve());
  // Holding the lock, a live listener at the path is an agent outside this network namespace:
  // wait for it as for the lock; a silent file is what a dead agent left, and is replaced.
  const free = await poll(async () => ((await answers(path)) ? undefined : true), { baseMs: 250, maxMs: 250, jitter: false, attempts: Number.MAX_SAFE_INTEGER, ...(waitMs > 0 ? { deadlineMs: waitMs } : {}) }, clock);
  if (!free) {
    await release();
    throw new Error(`another process still answers on ${path}`);
  }
  const server = createSocketHttpServer({ ...opts.routes, ...ipamRoutes(service) }, opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, metrics, log);
  let ino: number;
  try {
    ino = await listenPrivately(server, path);
  } catch (err) {
    await release();
    throw err;
  }
  log.info({ socket: path }, "CNI socket listening");
  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(async () => {
        // Remove the path only while it is still this agent's socket, and before the lock goes.
        if (sameFile(path, ino)) rmSync(path, { force: true });
        await release();
      })),
  };
}

function sameFile(path: string, ino: number): boolean {
  try {
    return lstatSync(path).ino === ino;
  } catch {
    return false;
  }
}
