import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { dirname } from "node:path";
import type { Logger } from "pino";
import { AGENT_PATHS, CNI_ERROR_CODES, type AgentError, type AgentRequest, type CheckRequest, type GcRequest } from "../cni/protocol.js";
import { AgentFailure, type CniService } from "./cni-service.js";

export interface SocketMetrics {
  observe(command: string, result: "ok" | "error", seconds: number): void;
}

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
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

/**
 * The CNI plugin's door: HTTP/1.1 on a unix socket that only root can open (mode 0600),
 * speaking cni/protocol.ts. Every failure becomes an AgentError with a CNI code; anything
 * unexpected (the apiserver unreachable, say) is "try again later" so the runtime retries.
 */
export type SocketRoutes = Record<string, (input: unknown) => Promise<unknown>>;

/** `more`: routes beyond the IPAM plugin's, keyed "METHOD /path" (the coordinator's). */
export async function startSocketServer(path: string, service: CniService, metrics: SocketMetrics, log: Logger, more: SocketRoutes = {}): Promise<{ close(): Promise<void> }> {
  const routes: SocketRoutes = {
    ...more,
    [`POST ${AGENT_PATHS.add}`]: (i) => service.add(i as AgentRequest),
    [`POST ${AGENT_PATHS.del}`]: async (i) => {
      await service.del(i as AgentRequest);
      return {};
    },
    [`POST ${AGENT_PATHS.check}`]: async (i) => {
      await service.check(i as CheckRequest);
      return {};
    },
    [`POST ${AGENT_PATHS.gc}`]: (i) => service.gc(i as GcRequest),
    [`GET ${AGENT_PATHS.status}`]: () => {
      service.status();
      return Promise.resolve({});
    },
  };
  const server: Server = createServer((req, res) => {
    const route = `${req.method ?? ""} ${req.url ?? ""}`;
    const handler = routes[route];
    const command = (req.url ?? "").split("/").pop() ?? "unknown";
    const started = process.hrtime.bigint();
    const done = (result: "ok" | "error"): void => metrics.observe(command, result, Number(process.hrtime.bigint() - started) / 1e9);
    if (!handler) {
      send(res, 404, { code: CNI_ERROR_CODES.AGENT_BAD_ANSWER, msg: `spiderpool-agent has no ${route}` } satisfies AgentError);
      return;
    }
    body(req)
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
          send(res, err.code === CNI_ERROR_CODES.TRY_AGAIN_LATER ? 503 : 409, { code: err.code, msg: err.message, ...(err.details ? { details: err.details } : {}), ...(err.reason ? { reason: err.reason } : {}) } satisfies AgentError);
        } else {
          log.error({ ...input, err }, "CNI request failed");
          send(res, 503, { code: CNI_ERROR_CODES.TRY_AGAIN_LATER, msg: `spiderpool-agent could not complete ${command}`, details: (err as Error).message } satisfies AgentError);
        }
      });
  });
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true }); // a socket left by a previous run
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  log.info({ socket: path }, "CNI socket listening");
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          rmSync(path, { force: true });
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
