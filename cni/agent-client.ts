/**
 * The transport to spiderpool-agent: one HTTP/1.1 request over its unix socket, no
 * keep-alive (the process exits right after). It knows nothing of CNI codes: it reports
 * "could not reach", "no answer in time" or "answered with status S and body B", and
 * commands.ts decides what each means for its command.
 *
 * Start-up matters here (docs/cni.md): node:http and node:net are loaded only when a
 * command calls the agent, and the request bypasses http.Agent, whose first use costs
 * ~7 ms compiling Node's IPv6 regex to classify a host name a unix socket does not have.
 */
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
      const [{ request }, { connect }] = await Promise.all([import("node:http"), import("node:net")]);
      return new Promise<AgentReply>((resolve, reject) => {
        const payload = body === undefined ? "" : JSON.stringify(body);
        let answered = false; // once the agent has sent headers, a socket error is not "unreachable"
        const req = request(
          {
            createConnection: () => connect(socketPath),
            path,
            method,
            headers: {
              "content-type": "application/json",
              "content-length": Buffer.byteLength(payload),
              connection: "close",
            },
          },
          (res) => {
            answered = true;
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("error", reject);
            res.on("end", () => {
              clearTimeout(timer);
              const text = Buffer.concat(chunks).toString("utf8");
              let parsed: unknown;
              try {
                parsed = text === "" ? undefined : JSON.parse(text);
              } catch {
                parsed = undefined;
              }
              resolve({ status: res.statusCode ?? 0, body: parsed, text });
            });
          },
        );
        const timer = setTimeout(() => req.destroy(new AgentTimeoutError(socketPath, path, timeoutMs)), timeoutMs);
        req.on("error", (err) => {
          clearTimeout(timer);
          if (err instanceof AgentTimeoutError || answered) reject(err);
          else reject(new AgentUnreachableError(socketPath, err));
        });
        req.end(payload);
      });
    },
  };
}
