/**
 * The transport to spiderpool-agent: one HTTP/1.1 request over its unix socket, no
 * keep-alive (the process exits right after). It knows nothing of CNI codes: it reports
 * "could not reach", "no answer in time" or "answered with status S and body B", and
 * commands.ts decides what each means for its command.
 *
 * Start-up matters here (docs/cni.md): node:net is loaded only when a command calls the
 * agent, and HTTP is written and read by http-wire.ts rather than node:http, whose loading
 * cost ~15 ms per run (and whose client differs between the runtimes that can compile the
 * plugin).
 */
import { parseResponse, requestBytes } from "./http-wire.js";
import type { AgentPath } from "./protocol.js";

export interface AgentReply {
  status: number;
  /** The parsed JSON body; undefined when the body was empty or not JSON (see `text`). */
  body: unknown;
  text: string;
}

export interface AgentTransport {
  readonly socketPath: string;
  call(method: "GET" | "POST", path: AgentPath, body: unknown, timeoutMs: number): Promise<AgentReply>;
}

export class AgentUnreachableError extends Error {
  readonly socketPath: string;
  /** The system error code (ENOENT, ECONNREFUSED, EACCES, ...), when there is one. */
  readonly errno: string | undefined;

  constructor(socketPath: string, cause: unknown) {
    // Duck-typed: errors from node: modules may come from another realm (jest's vm).
    const { code: errno, message } = (cause ?? {}) as { code?: unknown; message?: unknown };
    const why = typeof message === "string" ? message : String(cause);
    super(`spiderpool-agent is not reachable at ${socketPath}: ${why}`);
    this.name = "AgentUnreachableError";
    this.socketPath = socketPath;
    this.errno = typeof errno === "string" ? errno : undefined;
  }
}

export class AgentTimeoutError extends Error {
  readonly socketPath: string;

  constructor(socketPath: string, path: string, timeoutMs: number) {
    super(`spiderpool-agent at ${socketPath} did not answer ${path} within ${timeoutMs / 1000} s`);
    this.name = "AgentTimeoutError";
    this.socketPath = socketPath;
  }
}

export function unixSocketTransport(socketPath: string): AgentTransport {
  return {
    socketPath,
    call: async (method, path, body, timeoutMs) => {
      const { connect } = await import("node:net");
      return new Promise<AgentReply>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let received = 0; // once the agent has sent bytes, a socket error is not "unreachable"
        let settled = false;
        const socket = connect(socketPath);
        const finish = (fn: () => void): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          socket.destroy();
          fn();
        };
        const timer = setTimeout(() => finish(() => reject(new AgentTimeoutError(socketPath, path, timeoutMs))), timeoutMs);
        const look = (ended: boolean): void => {
          let parsed;
          try {
            parsed = parseResponse(Buffer.concat(chunks), ended);
          } catch (err) {
            finish(() => reject(received === 0 ? new AgentUnreachableError(socketPath, err) : (err as Error)));
            return;
          }
          if (parsed) finish(() => resolve(reply(parsed.status, parsed.body.toString("utf8"))));
        };
        socket.on("connect", () => socket.write(requestBytes(method, path, body === undefined ? "" : JSON.stringify(body))));
        socket.on("data", (c: Buffer) => {
          received += c.length;
          chunks.push(c);
          look(false);
        });
        socket.on("end", () => look(true));
        socket.on("error", (err) => finish(() => reject(received === 0 ? new AgentUnreachableError(socketPath, err) : err)));
      });
    },
  };
}

function reply(status: number, text: string): AgentReply {
  let parsed: unknown;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status, body: parsed, text };
}
