import { connect, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/**
 * A round-robin TCP balancer on 127.0.0.1 in front of several webhook replicas (TLS passes
 * through untouched), standing in for the Service that spreads admission calls in a cluster.
 */
export async function startBalancer(initial: readonly number[]): Promise<{ port: number; connections: number[]; setBackends(ports: readonly number[]): void; close(): Promise<void> }> {
  let next = 0;
  let ports = [...initial];
  const connections = ports.map(() => 0);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const i = next++ % ports.length;
    connections[i] = (connections[i] ?? 0) + 1;
    const upstream = connect(ports[i] ?? 0, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    /** New connections go to these replicas (one was killed, another started). */
    setBackends(p) {
      ports = [...p];
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
