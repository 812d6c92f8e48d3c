import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";

/** One sample of the Prometheus text format: name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition (what prom-client serves); comments are skipped. */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ""] = l[2] ?? "";
    out.push({ name: m[1] ?? "", labels, value: Number(m[3]) });
  }
  return out;
}

const matches = (s: Sample, labels: Record<string, string>): boolean => Object.entries(labels).every(([k, v]) => s.labels[k] === v);

/** The sum of a counter (or gauge) over the samples whose labels include `labels`. */
export function sumOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && matches(s, labels)).reduce((n, s) => n + s.value, 0);
}

/**
 * The q-quantile (0..1) of a histogram, by linear interpolation inside the bucket that holds
 * it, as Prometheus' histogram_quantile does; buckets with the same `le` are summed over the
 * other labels. NaN when the histogram is empty.
 */
export function histogramQuantile(samples: readonly Sample[], name: string, q: number, labels: Record<string, string> = {}): number {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !matches(s, labels)) continue;
    const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  const buckets = [...byLe.entries()].sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(count - prevCount, 1e-9);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

/** GETs a local endpoint (a benchmark's own controller's metrics port; over HTTPS its certificate is not pinned). */
export function fetchLocal(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: import("node:http").IncomingMessage): void => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve(body));
    };
    (url.startsWith("https:") ? httpsGet(url, { rejectUnauthorized: false }, onResponse) : httpGet(url, onResponse)).on("error", reject);
  });
}
