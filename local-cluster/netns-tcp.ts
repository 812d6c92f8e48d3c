/**
 * TCP across simulated hosts: a one-line server and client run with `ip netns exec` on this
 * Node.js, so tests check real connections between namespaces (a Service address on the
 * node, a Pod answering its node's probe) with no extra tools.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { ip } from "./netns.js";

const SERVER = `
const net = require("node:net");
const server = net.createServer((c) => c.end("hello from " + c.localAddress + " to " + c.remoteAddress + "\\n"));
server.listen({ host: process.env.HOST, port: Number(process.env.PORT) }, () => console.log("listening"));
setTimeout(() => process.exit(0), Number(process.env.LIFE_MS)).unref();
`;

const CLIENT = `
const net = require("node:net");
const c = net.connect({ host: process.env.HOST, port: Number(process.env.PORT) });
let text = "";
c.setTimeout(Number(process.env.WAIT_MS), () => { console.error("timed out"); process.exit(2); });
c.on("data", (d) => (text += d));
c.on("end", () => { process.stdout.write(text); process.exit(0); });
c.on("error", (e) => { console.error(e.message); process.exit(1); });
`;

export interface TcpServer {
  stop(): void;
}

/** A server in `netns` on host:port that greets each connection with both addresses; resolves once listening. */
export async function tcpServer(netns: string, host: string, port: number, lifeMs = 120_000): Promise<TcpServer> {
  const child: ChildProcess = spawn("ip", ["netns", "exec", netns, process.execPath, "-e", SERVER], {
    env: { PATH: process.env.PATH, HOST: host, PORT: String(port), LIFE_MS: String(lifeMs) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    let err = "";
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout?.on("data", (d: Buffer) => d.toString().includes("listening") && resolve());
    child.on("exit", (code) => reject(new Error(`server in ${netns} on [${host}]:${port} exited (${code}): ${err}`)));
  });
  return { stop: () => void child.kill() };
}

/** Connects from `netns` to host:port; the server's greeting, or undefined when nothing answered. */
export function tcpAsk(netns: string, host: string, port: number, waitMs = 3000): Promise<string | undefined> {
  const child = spawn("ip", ["netns", "exec", netns, process.execPath, "-e", CLIENT], {
    env: { PATH: process.env.PATH, HOST: host, PORT: String(port), WAIT_MS: String(waitMs) },
    stdio: ["ignore", "pipe", "ignore"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on("exit", (code) => resolve(code === 0 ? out.trim() : undefined)));
}

/** `ip route get` in a namespace, as JSON: the route the kernel would use. */
export async function routeGet(netns: string, ...args: string[]): Promise<{ dev?: string; gateway?: string; table?: string }> {
  const out = JSON.parse(await ip("-n", netns, "-j", "route", "get", ...args)) as { dev?: string; gateway?: string; table?: string }[];
  return out[0] ?? {};
}
