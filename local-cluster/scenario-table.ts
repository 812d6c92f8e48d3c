import { SCENARIO_TITLES, type ScenarioResult } from "./scenario.js";

const mib = (bytes: number): string => (Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(0)} MiB` : "—");
const fixed = (x: number | undefined, digits: number, unit = ""): string => (x !== undefined && Number.isFinite(x) ? `${x.toFixed(digits)}${unit}` : "—");

/** A scenario's title, with the settings it ran with. */
export function scenarioTitle(r: Pick<ScenarioResult, "kind" | "settings">): string {
  const settings = r.settings ? ` (${Object.entries(r.settings).map(([k, v]) => `${k}=${v}`).join(", ")})` : "";
  return `${SCENARIO_TITLES[r.kind]}${settings}`;
}

/** The scenario runner's markdown table; ratios are to the baseline's wall time of the same run. */
export function scenarioTable(results: readonly ScenarioResult[]): string {
  const base = results.find((r) => r.kind === "baseline")?.wallMs;
  const head = "| scenario | Pods Running (failed) | wall time | vs baseline | admissions/s | admission p50 | p99 | Pod admissions refused | Deployment creates refused | pool CAS conflicts | controller peak RSS | consistency at the end |";
  const rows = results.map((r) => {
    const wall = r.error ? `failed: ${r.error}` : r.wallMs === undefined ? `timed out (${r.running}/${r.pods})` : `${(r.wallMs / 1000).toFixed(1)} s`;
    const ratio = r.wallMs !== undefined && base !== undefined && r.kind !== "baseline" ? fixed(r.wallMs / base, 2, "×") : "—";
    const rate = r.wallMs && r.admissions ? fixed(r.admissions / (r.wallMs / 1000), 1) : "—";
    const hooked = r.kind !== "baseline";
    // The floor's webhook keeps no pools and has no controller of its own to weigh.
    const spider = hooked && r.kind !== "floor" && r.kind !== "floor-record";
    return `| ${scenarioTitle(r)} | ${r.running} (${r.failed}) | ${wall} | ${ratio} | ${rate} | ${hooked ? fixed(r.admissionP50Ms, 1, " ms") : "—"} | ${hooked ? fixed(r.admissionP99Ms, 1, " ms") : "—"} | ${hooked ? r.refused : "—"} | ${r.createsRefused} | ${spider ? r.conflicts : "—"} | ${spider ? mib(r.controllerPeakRss) : "—"} | ${r.verdict} |`;
  });
  return [head, `|${" --- |".repeat(12)}`, ...rows].join("\n");
}
