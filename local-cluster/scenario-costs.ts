import type { KubeConfig } from "@kubernetes/client-node";
import { readdirSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { parseMetrics } from "./metrics-text.js";

/**
 * What a scenario's wave cost, for bench/scenario.bench.ts: the CPU time of the control
 * plane's processes and the controller (from /proc, Linux), and the apiserver's requests
 * (its `apiserver_request_total`), read before the wave and after it, so that neither the
 * scenario's setup nor its teardown is in them.
 */
export interface WaveCosts {
  /** CPU-seconds by process: kube-apiserver, etcd, kube-controller-manager, kube-scheduler, kwok, controller (or floor). */
  cpu: Record<string, number>;
  /** Apiserver requests per Pod of the wave, by "VERB resource[/subresource]", the largest first. */
  requestsPerPod: Record<string, number>;
}

interface Reading {
  cpu: Map<string, number>;
  requests: Map<string, number>;
}

/** The control plane's processes by the name the kernel gives them (at most 15 characters). */
const PROCESSES: Record<string, string> = { "kube-apiserver": "kube-apiserver", etcd: "etcd", "kube-controller": "kube-controller-manager", "kube-scheduler": "kube-scheduler", kwok: "kwok" };

const ticks = 100; // USER_HZ on Linux

/** utime + stime of a /proc/<pid>/stat line, in seconds, and the process's name. */
function statOf(pid: string): { comm: string; seconds: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return { comm: s.slice(s.indexOf("(") + 1, s.lastIndexOf(")")), seconds: (Number(fields[11]) + Number(fields[12])) / ticks };
  } catch {
    return undefined;
  }
}

/** CPU seconds so far of the control plane's processes (by name) and of `own` (by pid). */
export function processCpu(own: Record<string, number> = {}): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const st = statOf(pid);
    const name = st && PROCESSES[st.comm];
    if (st && name) out.set(name, (out.get(name) ?? 0) + st.seconds);
  }
  for (const [name, pid] of Object.entries(own)) out.set(name, statOf(String(pid))?.seconds ?? NaN);
  return out;
}

/** GET with the kubeconfig's credentials (the client's typed APIs do not serve /metrics). */
async function getText(kc: KubeConfig, path: string): Promise<string> {
  const server = kc.getCurrentCluster()?.server ?? "";
  const opts: Record<string, unknown> = {};
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    request(`${server}${path}`, opts, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve(body));
    })
      .on("error", reject)
      .end();
  });
}

async function requestCounts(kc: KubeConfig): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const s of parseMetrics(await getText(kc, "/metrics"))) {
    if (s.name !== "apiserver_request_total") continue;
    const key = `${s.labels.verb ?? ""} ${s.labels.resource ?? ""}${s.labels.subresource ? `/${s.labels.subresource}` : ""}`;
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

/** Reads the costs now; `own` names processes of the scenario's own by pid (its controller). */
export async function readCosts(kc: KubeConfig, own: Record<string, number>): Promise<Reading> {
  return { cpu: processCpu(own), requests: await requestCounts(kc) };
}

/** What happened between two readings, requests per Pod of a wave of `pods`. */
export function costsBetween(before: Reading, after: Reading, pods: number): WaveCosts {
  const cpu: Record<string, number> = {};
  for (const [name, v] of after.cpu) cpu[name] = Math.round((v - (before.cpu.get(name) ?? 0)) * 10) / 10;
  const perPod = [...after.requests]
    .map(([k, v]) => [k, (v - (before.requests.get(k) ?? 0)) / pods] as const)
    .filter(([, v]) => v >= 0.01)
    .sort((a, b) => b[1] - a[1]);
  return { cpu, requestsPerPod: Object.fromEntries(perPod.map(([k, v]) => [k, Math.round(v * 100) / 100])) };
}

/** A markdown table of the waves' CPU-seconds by process. */
export function costsTable(rows: readonly { title: string; costs: WaveCosts }[]): string {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.costs.cpu)))];
  const head = `| scenario (its wave only) | ${names.map((n) => `${n} CPU-s`).join(" | ")} | apiserver requests per Pod, the largest |`;
  const lines = rows.map((r) => {
    const top = Object.entries(r.costs.requestsPerPod).slice(0, 8).map(([k, v]) => `${k} ${v}`).join(", ");
    return `| ${r.title} | ${names.map((n) => (Number.isFinite(r.costs.cpu[n]) ? String(r.costs.cpu[n]) : "—")).join(" | ")} | ${top} |`;
  });
  return [head, `|${" --- |".repeat(names.length + 2)}`, ...lines].join("\n");
}
