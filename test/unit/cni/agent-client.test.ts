import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentTimeoutError, AgentUnreachableError, unixSocketTransport } from "../../../cni/agent-client.js";

// A socket that answers with refusals only: the transport's mechanics, not an agent.
let tmp: string;
let server: Server | undefined;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "cni-client-"));
});
afterEach(async () => {
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
  }
  rmSync(tmp, { recursive: true, force: true });
});

async function listen(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<string> {
  const path = join(tmp, "agent.sock");
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => handler(req, body, res));
  });
  await new Promise<void>((resolve) => server?.listen(path, resolve));
  return path;
}

describe("unixSocketTransport", () => {
  it("POSTs JSON and returns the status with the parsed body", async () => {
    let seen: { method?: string; url?: string; type?: string; body?: string } = {};
    const sock = await listen((req, body, res) => {
      seen = { method: req.method, url: req.url, type: req.headers["content-type"], body };
      res.writeHead(503, { "content-type": "application/json" }).end('{"code":11,"msg":"caches not synced"}');
    });
    const reply = await unixSocketTransport(sock).call("POST", "/v1/cni/add", { containerID: "c" }, 2000);
    expect(seen).toEqual({ method: "POST", url: "/v1/cni/add", type: "application/json", body: '{"containerID":"c"}' });
    expect(reply).toEqual({ status: 503, body: { code: 11, msg: "caches not synced" }, text: '{"code":11,"msg":"caches not synced"}' });
  });

  it("GETs without a body, and keeps a body that is not JSON as text", async () => {
    const sock = await listen((req, body, res) => {
      res.writeHead(500).end(`${req.method} ${body.length} not json`);
    });
    expect(await unixSocketTransport(sock).call("GET", "/v1/cni/status", undefined, 2000)).toEqual({
      status: 500,
      body: undefined,
      text: "GET 0 not json",
    });
  });

  it("reads a chunked answer written in pieces", async () => {
    const sock = await listen((_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"ips":');
      setTimeout(() => res.end("[]}"), 20);
    });
    expect(await unixSocketTransport(sock).call("POST", "/v1/cni/add", {}, 2000)).toEqual({ status: 200, body: { ips: [] }, text: '{"ips":[]}' });
  });

  it("reports a missing socket as unreachable, with its errno and path", async () => {
    const sock = join(tmp, "missing.sock");
    const err = await unixSocketTransport(sock).call("GET", "/v1/cni/status", undefined, 2000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentUnreachableError);
    expect((err as AgentUnreachableError).errno).toBe("ENOENT");
    expect((err as AgentUnreachableError).socketPath).toBe(sock);
  });

  it("reports an agent that hangs up without answering as unreachable", async () => {
    const sock = await listen((req) => req.socket.destroy());
    const err = await unixSocketTransport(sock).call("POST", "/v1/cni/del", {}, 2000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentUnreachableError);
  });

  it("gives up after the timeout", async () => {
    const sock = await listen(() => undefined); // never answers
    const started = Date.now();
    const err = await unixSocketTransport(sock).call("POST", "/v1/cni/add", {}, 300).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentTimeoutError);
    expect((err as Error).message).toBe(`spiderpool-agent at ${sock} did not answer /v1/cni/add within 0.3 s`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});
