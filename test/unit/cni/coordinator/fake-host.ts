import type { HostTools, RunResult, Tool } from "../../../../cni/coordinator/host-tools.js";

/** One namespace as `ip -j` prints it. */
export interface FakeNs {
  links: Record<string, unknown>[];
  addrs: { ifname: string; family: "inet" | "inet6"; local: string; prefixlen: number; scope?: string; tentative?: boolean; dadfailed?: boolean }[];
  routes4: Record<string, unknown>[];
  routes6: Record<string, unknown>[];
  rules4: Record<string, unknown>[];
  rules6: Record<string, unknown>[];
}

export interface Call {
  netns: string | undefined;
  tool: Tool;
  args: readonly string[];
  lines: string[];
}

export const emptyNs = (): FakeNs => ({ links: [{ ifindex: 1, ifname: "lo", mtu: 65536, address: "00:00:00:00:00:00", flags: ["LOOPBACK", "UP"] }], addrs: [], routes4: [], routes6: [], rules4: [], rules6: [] });

/**
 * The host tools, faked: `ip -j` reads answer from FakeNs tables (by namespace; the node's
 * is ""), writes are recorded and not applied, and a line can be made to fail as ip does.
 */
export class FakeHost implements HostTools {
  readonly ns = new Map<string, FakeNs>();
  readonly calls: Call[] = [];
  readonly missingTools = new Set<Tool>();
  /** ip's stderr for a line that should fail (first match). */
  failLine: ((line: string) => string | undefined) | undefined;
  answers: Partial<Record<Tool, RunResult>> = {};

  constructor() {
    this.ns.set("", emptyNs());
  }

  state(netns: string | undefined): FakeNs {
    const s = this.ns.get(netns ?? "");
    if (!s) throw new Error(`no namespace ${netns}`);
    return s;
  }

  has(tool: Tool): boolean {
    return !this.missingTools.has(tool);
  }

  run(netns: string | undefined, tool: Tool, args: readonly string[], input?: string): RunResult {
    const lines = (input ?? "").split("\n").filter((l) => l !== "");
    this.calls.push({ netns, tool, args, lines });
    if (tool !== "ip") return this.answers[tool] ?? { status: 0, stdout: "", stderr: "" };
    const s = this.ns.get(netns ?? "");
    if (!s) return { status: 1, stdout: "", stderr: `nsenter: cannot open ${netns}: No such file or directory` };
    if (args.includes("-j")) return { status: 0, stdout: this.read(s, args.includes("-6") ? 6 : 4, lines), stderr: "" };
    const failing = lines.findIndex((l) => this.failLine?.(l) !== undefined);
    if (failing >= 0) return { status: 1, stdout: "", stderr: `${this.failLine?.(lines[failing] ?? "")}\nCommand failed -:${failing + 1}\n` };
    return { status: 0, stdout: "", stderr: "" };
  }

  private read(s: FakeNs, family: 4 | 6, lines: string[]): string {
    const fam = family === 4 ? "inet" : "inet6";
    return lines
      .map((l) => {
        if (l.startsWith("link")) return s.links;
        if (l.startsWith("addr")) {
          return s.links.map((link) => ({ ...link, addr_info: s.addrs.filter((a) => a.ifname === link.ifname && a.family === fam).map((a) => ({ scope: "global", ...a })) }));
        }
        if (l.startsWith("route")) return family === 4 ? s.routes4 : s.routes6;
        return family === 4 ? s.rules4 : s.rules6;
      })
      .map((j) => JSON.stringify(j))
      .join("\n");
  }

  /** Every write line run in `netns` ("" for the node), in order. */
  written(netns: string): string[] {
    return this.calls.filter((c) => c.tool === "ip" && (c.netns ?? "") === netns && !c.args.includes("-j")).flatMap((c) => (c.args.includes("-6") ? c.lines.map((l) => `-6 ${l}`) : c.lines));
  }
}
