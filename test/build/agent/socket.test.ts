/**
 * The agent's unix socket as two agents on one node meet it (a DaemonSet surge update
 * starts the new agent while the old one still serves): the lock, the mode from the start,
 * the body limit. Real sockets and a real poller process; no cluster.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from "@jest/globals";
import { spawn } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import pino from "pino";
import type { CniService } from "../../../agent/cni-service.js";
import { startSocketServer } from "../../../agent/socket-server.js";

const log = pino({ level: "silent" });
const metrics = { observe: () => undefined };
const service = {} as CniService;

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "agent-socket-"));
  path = join(dir, "run", "spiderpool.sock");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** One request over the socket; resolves with the status and the body text. */
function ask(method: string, route: string, body?: string | Buffer, socketPath = path): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path: route, headers: { "content-type": "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A socket server whose extra route says which agent answered. */
const startNamed = (name: string, opts: { maxBodyBytes?: number; lockWaitMs?: number } = {}) =>
  startSocketServer(path, service, metrics, log, { routes: { "GET /who": () => Promise.resolve({ name }), "POST /v1/coordinator/config": () => Promise.resolve({}) }, ...opts });

const who = async (): Promise<string> => (JSON.parse((await ask("GET", "/who")).text) as { name: string }).name;

describe("the agent socket", () => {
  it("a second agent neither deletes nor steals the first's socket; it takes over once the first is gone", async () => {
    const first = await startNamed("first");
    const second = startNamed("second");
    let secondUp = false;
    void second.then(() => (secondUp = true), () => undefined);
    await new Promise((r) => setTimeout(r, 500));
    expect(secondUp).toBe(false);
    expect(await who()).toBe("first");
    await first.close();
    const s = await second;
    // The first's exit removed nothing of the second's: the second answers at the path.
    expect(existsSync(path)).toBe(true);
    expect(await who()).toBe("second");
    await s.close();
    expect(existsSync(path)).toBe(false);
  }, 20_000);

  it("a first agent's exit leaves the socket of an agent that took over untouched", async () => {
    const first = await startNamed("first");
    const second = startNamed("second");
    await first.close();
    const s = await second;
    await first.close(); // closing twice (a late SIGTERM path) is harmless
    expect(await who()).toBe("second");
    await s.close();
  }, 20_000);

  it("replaces a socket file left by an agent that died", async () => {
    // What a killed agent leaves: the file, no listener.
    mkdirSync(join(dir, "run"));
    const dead = spawn(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(path)}, () => console.log("up"))`]);
    await new Promise((resolve) => dead.stdout.once("data", resolve));
    dead.kill("SIGKILL");
    await new Promise((resolve) => dead.once("exit", resolve));
    expect(existsSync(path)).toBe(true);
    const next = await startNamed("next");
    expect(await who()).toBe("next");
    await next.close();
  }, 20_000);

  it("creates the socket unreachable to others from the start, even under umask 0", async () => {
    // At the moment of bind (inside listen, before any callback could chmod it), whoever is
    // not root must not be able to connect: the socket itself or its folder is closed to them.
    const bound: { path: string; socketMode: number; dirMode: number }[] = [];
    const original = Object.getOwnPropertyDescriptor(Server.prototype, "listen")?.value as (...a: unknown[]) => Server;
    const spy = jest.spyOn(Server.prototype, "listen").mockImplementation(function (this: Server, ...args: unknown[]) {
      const result = original.apply(this, args);
      const where = args[0];
      if (typeof where === "string" && existsSync(where)) {
        bound.push({ path: where, socketMode: lstatSync(where).mode & 0o777, dirMode: lstatSync(dirname(where)).mode & 0o777 });
      }
      return result;
    });
    const old = process.umask(0);
    let s: { close(): Promise<void> } | undefined;
    try {
      s = await startNamed("moded");
    } finally {
      process.umask(old);
      spy.mockRestore();
    }
    expect(bound.length).toBeGreaterThan(0);
    const open = bound.filter((b) => (b.socketMode & 0o077) !== 0 && (b.dirMode & 0o077) !== 0);
    expect(open.map((b) => `${b.path} socket ${b.socketMode.toString(8)} folder ${b.dirMode.toString(8)}`)).toEqual([]);
    expect(lstatSync(path).mode & 0o777).toBe(0o600);
    await s.close();
  }, 20_000);

  it("refuses a body larger than its limit on every route, before parsing it, and keeps serving", async () => {
    const s = await startNamed("limited", { maxBodyBytes: 1024 });
    const big = Buffer.alloc(64 * 1024, "a");
    for (const route of ["/v1/cni/add", "/v1/cni/del", "/v1/cni/check", "/v1/cni/gc", "/v1/coordinator/config"]) {
      const res = await ask("POST", route, big);
      expect({ route, status: res.status }).toEqual({ route, status: 413 });
      expect(JSON.parse(res.text)).toMatchObject({ code: 6, msg: expect.stringContaining("1024 bytes") });
    }
    expect(await who()).toBe("limited");
    await s.close();
  }, 20_000);
});
