import { parseSafe36, toBase36 } from "../allocation/base36.js";

/**
 * The address history: for each address of a pool, its last holders (Pod, uid, from, until,
 * why it was released). It lives outside the pool (the pool's status stays the compact
 * record allocation rests on) in one object per block of 256 addresses, each address keeping
 * at most HISTORY_PER_ADDRESS holders, so a block's text stays a few tens of KiB however
 * large the pool: a /16 is 256 such objects, each far under the apiserver's size limit.
 */
export interface HistoryEntry {
  /** The address as text. */
  readonly address: string;
  /** ns/name of the holder. */
  readonly pod: string;
  readonly uid: string;
  /** When the holding began (the endpoint's creation), ms; 0 when unknown. */
  readonly from: number;
  /** When it was released, ms. */
  readonly until: number;
  readonly reason: string;
}

export const HISTORY_PER_ADDRESS = 3;
/** Addresses per history object. */
export const HISTORY_BLOCK = 256n;

/** The block an address offset (from the pool's subnet network address) belongs to. */
export function historyBlock(offset: bigint): string {
  return toBase36(offset / HISTORY_BLOCK);
}

/** One line per entry: address|pod|uid|from|until|reason, times in base-36 seconds. */
function line(e: HistoryEntry): string {
  const s = (ms: number): string => toBase36(Math.floor(ms / 1000));
  return [e.address, e.pod, e.uid, s(e.from), s(e.until), e.reason].join("|");
}

/** The entries of a history text, oldest first; lines that do not parse are dropped (history is advisory). */
export function parseHistory(text: string | undefined): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const l of (text ?? "").split("\n")) {
    const [address = "", pod = "", uid = "", from = "", until = "", reason = "", ...rest] = l.split("|");
    const f = parseSafe36(from);
    const u = parseSafe36(until);
    if (!address || rest.length > 0 || f === undefined || u === undefined) continue;
    out.push({ address, pod, uid, from: f * 1000, until: u * 1000, reason });
  }
  return out;
}

/** Adds `entries` (oldest first) and keeps the last HISTORY_PER_ADDRESS holders of each address. */
export function appendHistory(text: string | undefined, entries: readonly HistoryEntry[]): string {
  const all = [...parseHistory(text), ...entries.map((e) => ({ ...e, address: e.address.replace(/[|\n]/g, ""), pod: e.pod.replace(/[|\n]/g, "") }))];
  const seen = new Map<string, number>();
  const kept: HistoryEntry[] = [];
  for (let i = all.length - 1; i >= 0; i--) {
    const e = all[i] as HistoryEntry;
    const n = seen.get(e.address) ?? 0;
    if (n >= HISTORY_PER_ADDRESS) continue;
    seen.set(e.address, n + 1);
    kept.push(e);
  }
  return kept.reverse().map(line).join("\n");
}
