import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Runs `ip` (iproute2); rejects with its stderr. */
export async function ip(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run("ip", args);
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(" ")}: ${e.stderr?.trim() || e.message}`);
  }
}

export async function addNetns(name: string): Promise<string> {
  await ip("netns", "del", name).catch(() => undefined);
  await ip("netns", "add", name);
  await ip("-n", name, "link", "set", "lo", "up");
  return `/var/run/netns/${name}`;
}

export async function delNetns(name: string): Promise<void> {
  await ip("netns", "del", name).catch(() => undefined);
}

/** The addresses on a link inside a namespace, as "10.6.0.5/24" strings. */
export async function addressesIn(netns: string, link: string): Promise<string[]> {
  const out = JSON.parse(await ip("-n", netns, "-j", "addr", "show", "dev", link)) as { addr_info?: { local: string; prefixlen: number; scope: string }[] }[];
  return (out[0]?.addr_info ?? []).filter((a) => a.scope === "global").map((a) => `${a.local}/${a.prefixlen}`);
}

export async function ping(netns: string, target: string): Promise<boolean> {
  try {
    await run("ip", ["netns", "exec", netns, "ping", "-c", "2", "-W", "2", "-i", "0.2", target]);
    return true;
  } catch {
    return false;
  }
}

/**
 * The simulated underlay: a bridge inside a namespace of its own, and for each test node a
 * veth whose host end is that node's macvlan master. Frames between Pods on two nodes go
 * macvlan -> veth -> bridge -> veth -> macvlan and never touch the host's own network.
 */
export class Underlay {
  private constructor(
    readonly netns: string,
    private readonly id: string,
  ) {}

  static async create(id: string): Promise<Underlay> {
    const u = new Underlay(`spu-${id}`, id);
    await addNetns(u.netns);
    await ip("-n", u.netns, "link", "add", "br0", "type", "bridge");
    await ip("-n", u.netns, "link", "set", "br0", "up");
    return u;
  }

  /** Plugs a node in; returns the host-side link to use as macvlan master (<= 15 chars). */
  async plug(node: string): Promise<string> {
    const host = `${this.id}${node}h`.slice(0, 15);
    const bridgeSide = `${this.id}${node}b`.slice(0, 15);
    await ip("link", "del", host).catch(() => undefined);
    await ip("link", "add", host, "type", "veth", "peer", "name", bridgeSide);
    await ip("link", "set", bridgeSide, "netns", this.netns);
    await ip("-n", this.netns, "link", "set", bridgeSide, "master", "br0");
    await ip("-n", this.netns, "link", "set", bridgeSide, "up");
    await ip("link", "set", host, "up");
    return host;
  }

  /** Removing the namespace removes the bridge and, with their peers, the host-side veths. */
  async destroy(): Promise<void> {
    await delNetns(this.netns);
  }
}
