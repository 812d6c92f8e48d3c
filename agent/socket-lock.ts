import { createHash } from "node:crypto";
import { createServer, type Server } from "node:net";
import { resolve } from "node:path";
import type { Clock, Log } from "../ipam/ports.js";
import { poll } from "../ipam/retry.js";

/**
 * The lock an agent holds on its CNI socket path for as long as it serves it: a listening
 * socket in Linux's abstract namespace, named after the path. Binding it is exclusive (a
 * second bind gets EADDRINUSE) and the kernel drops it when its process dies, however it
 * dies, so there is no stale lock to judge and no pid to trust across containers. Abstract
 * names belong to a network namespace: agents share one through hostNetwork, as on a node.
 */
export interface SocketLock {
  release(): Promise<void>;
}

export function lockName(socketPath: string): string {
  return `\0spiderpool-agent-${createHash("sha256").update(resolve(socketPath)).digest("hex").slice(0, 40)}`;
}

function tryBind(name: string): Promise<Server | undefined> {
  return new Promise((done, fail) => {
    const server = createServer((conn) => conn.destroy());
    server.once("error", (err: NodeJS.ErrnoException) => (err.code === "EADDRINUSE" ? done(undefined) : fail(err)));
    server.listen(name, () => done(server));
  });
}

/** Polls this often while another agent holds the path (a surge update's old agent until it stops). */
const WAIT_POLICY = { baseMs: 250, maxMs: 250, jitter: false } as const;

/** Takes the lock on `socketPath`, waiting while another agent holds it (at most `waitMs`; forever when 0). */
export async function acquireSocketLock(socketPath: string, o: { clock: Clock; log: Log; waitMs: number }): Promise<SocketLock> {
  const name = lockName(socketPath);
  let told = false;
  const server = await poll(
    async () => {
      const s = await tryBind(name);
      if (!s && !told) {
        told = true;
        o.log.info({ socket: socketPath }, "another agent serves this socket; waiting for it to stop");
      }
      return s;
    },
    { ...WAIT_POLICY, attempts: Number.MAX_SAFE_INTEGER, ...(o.waitMs > 0 ? { deadlineMs: o.waitMs } : {}) },
    o.clock,
  );
  if (!server) throw new Error(`another spiderpool-agent still serves ${socketPath} after ${o.waitMs} ms`);
  return { release: () => new Promise<void>((done) => server.close(() => done())) };
}
