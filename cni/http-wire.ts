/**
 * The few bytes of HTTP/1.1 the plugin needs, written out by hand: one request with a JSON
 * body and `Connection: close`, and the parse of one response. node:http costs the plugin
 * ~15 ms to load on every run and is not the same module under every runtime that can
 * compile the plugin (docs/cni.md, packaging); node:net is in all of them.
 */

/** The request bytes: a fixed header block (no user text in it but the path) and the body. */
export function requestBytes(method: string, path: string, body: string): Buffer {
  const payload = Buffer.from(body, "utf8");
  const head =
    `${method} ${path} HTTP/1.1\r\nHost: spiderpool-agent\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${payload.length}\r\nConnection: close\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), payload]);
}

export interface ParsedResponse {
  status: number;
  body: Buffer;
}

/** A response that is not HTTP/1.x as the agent writes it. */
export class MalformedResponseError extends Error {
  constructor(why: string) {
    super(`the agent's answer is not HTTP/1.1: ${why}`);
    this.name = "MalformedResponseError";
  }
}

/**
 * Parses what arrived so far. Returns undefined while the response is incomplete: headers
 * not ended, fewer body bytes than Content-Length, a chunked body without its last chunk,
 * or (no length given) the connection still open (`ended` false).
 */
export function parseResponse(data: Buffer, ended: boolean): ParsedResponse | undefined {
  const headEnd = data.indexOf("\r\n\r\n");
  if (headEnd < 0) {
    if (ended) throw new MalformedResponseError(data.length === 0 ? "no bytes" : "the header block never ends");
    return undefined;
  }
  const { status, headers } = parseHead(data.subarray(0, headEnd).toString("latin1"));
  const body = bodyOf(data.subarray(headEnd + 4), headers, ended);
  return body === undefined ? undefined : { status, body };
}

function parseHead(head: string): { status: number; headers: Map<string, string> } {
  const lines = head.split("\r\n");
  const statusLine = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? "");
  if (!statusLine) throw new MalformedResponseError(`status line ${JSON.stringify((lines[0] ?? "").slice(0, 40))}`);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(statusLine[1]), headers };
}

/** The body once complete, by the framing the headers announce; undefined while more is due. */
function bodyOf(rest: Buffer, headers: ReadonlyMap<string, string>, ended: boolean): Buffer | undefined {
  if (/\bchunked\b/i.test(headers.get("transfer-encoding") ?? "")) {
    const body = dechunk(rest);
    if (body === undefined && ended) throw new MalformedResponseError("the chunked body is cut short");
    return body;
  }
  const length = headers.get("content-length");
  if (length === undefined) return ended ? rest : undefined;
  const n = Number(length);
  if (!Number.isInteger(n) || n < 0) throw new MalformedResponseError(`Content-Length ${JSON.stringify(length)}`);
  if (rest.length >= n) return rest.subarray(0, n);
  if (ended) throw new MalformedResponseError(`${rest.length} of ${n} body bytes`);
  return undefined;
}

/** The body of a complete chunked encoding; undefined while the terminating chunk has not arrived. */
function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.subarray(at, lineEnd).toString("latin1").split(";")[0] ?? "", 16);
    if (!Number.isInteger(size) || size < 0) throw new MalformedResponseError("a chunk size that is not hexadecimal");
    if (size === 0) return Buffer.concat(parts);
    const start = lineEnd + 2;
    if (data.length < start + size + 2) return undefined;
    parts.push(data.subarray(start, start + size));
    at = start + size + 2;
  }
}
