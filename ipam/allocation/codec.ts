import type { CIDR } from "../address/cidr.js";
import { formatIP } from "../address/ip.js";
import { IpamError } from "../errors.js";
import { parseBig36, parseSafe36, parseSigned36, toBase36 } from "./base36.js";
import { decodeRuns } from "./codec-runs.js";
import { memoizedDecode, rememberEncoded } from "./decode-memo.js";
import {
  type AllocationRun,
  type CoolingAddress,
  FIRST_TOKEN,
  type HeldAddress,
  type PendingReservation,
  type PoolAllocations,
  emptyAllocations,
  tokenAt,
} from "./state.js";

/**
 * status.allocations, version 1:
 *
 *   v1;<nextToken>;<runs>;<pending>;<cooling>
 *
 * Numbers are base 36; addresses are offsets from the subnet's network address (so the format
 * is the same for IPv4 and IPv6). Lists are comma-separated.
 * - run:     <gap>[.<count>][~<tokenDelta>]   gap = start − (previous run's end + 1), written
 *            for the first run even when 0; count defaults to 1; tokenDelta (signed) is
 *            firstToken − (previous firstToken + previous count), starting from 1, default 0.
 *            A pool filled lowest-first is one run: "v1;ia;1.i9;;" for 650 addresses.
 * - pending: <id>|<owner>|<expiresAt>|<offset>@<interface>+...   id, owner and interface
 *            URI-encoded; a held address's token is the one the runs give it.
 * - cooling: <gap>[:<untilDelta>]   in address order; gap as for runs (first always written),
 *            untilDelta (signed, ms) relative to the previous entry's until (the first to 0),
 *            omitted when equal: addresses released together cost about one byte each.
 */
export const ALLOCATIONS_VERSION = "v1";

export function corrupt(why: string, details: Record<string, unknown> = {}): IpamError {
  return new IpamError("ALLOCATION_CORRUPT", `the pool's allocation record is corrupt: ${why}`, details);
}

function offsetOf(address: bigint, subnet: CIDR): bigint {
  if (address < subnet.network || address > subnet.last) {
    throw corrupt(`address ${formatIP(subnet.family, address)} lies outside the subnet`);
  }
  return address - subnet.network;
}

function encodeRuns(runs: readonly AllocationRun[], subnet: CIDR): string {
  const out: string[] = [];
  let nextStart = 0n;
  let expectedToken = FIRST_TOKEN;
  for (const [i, r] of runs.entries()) {
    const offset = offsetOf(r.start, subnet);
    const gap = offset - nextStart;
    let entry = i === 0 || gap !== 0n ? toBase36(gap) : "";
    if (r.count !== 1) entry += `.${toBase36(r.count)}`;
    if (r.firstToken !== expectedToken) entry += `~${toBase36(r.firstToken - expectedToken)}`;
    out.push(entry);
    nextStart = offset + BigInt(r.count);
    expectedToken = r.firstToken + r.count;
  }
  return out.join(",");
}

/**
 * The text of each pending reservation, by the (immutable) object: a write re-encodes every
 * reservation of the pool, and most are the very objects the last decode made, so their text
 * is known (decoding accepts only the canonical text, so it is the one encoding gives).
 */
const pendingText = new WeakMap<PendingReservation, { subnet: CIDR; text: string }>();

function encodePendingEntry(r: PendingReservation, subnet: CIDR): string {
  const known = pendingText.get(r);
  if (known && (known.subnet === subnet || (known.subnet.network === subnet.network && known.subnet.family === subnet.family))) return known.text;
  const held = r.held.map((h) => `${toBase36(offsetOf(h.address, subnet))}@${encodeURIComponent(h.interface)}`);
  const text = [encodeURIComponent(r.id), encodeURIComponent(r.owner ?? ""), toBase36(r.expiresAt), held.join("+")].join("|");
  pendingText.set(r, { subnet, text });
  return text;
}

function encodePending(pending: readonly PendingReservation[], subnet: CIDR): string {
  return pending.map((r) => encodePendingEntry(r, subnet)).join(",");
}

function encodeCooling(cooling: readonly CoolingAddress[], subnet: CIDR): string {
  let nextOffset = 0n;
  let previousUntil = 0;
  return cooling
    .map((c, i) => {
      const offset = offsetOf(c.address, subnet);
      const gap = offset - nextOffset;
      const delta = c.until - previousUntil;
      nextOffset = offset + 1n;
      previousUntil = c.until;
      const entry = i === 0 || gap !== 0n ? toBase36(gap) : "";
      return delta === 0 ? entry : `${entry}:${toBase36(delta)}`;
    })
    .join(",");
}

/** The compact text stored in SpiderIPPool status.allocations. */
export function encodeAllocations(state: PoolAllocations, subnet: CIDR): string {
  const text = [
    ALLOCATIONS_VERSION,
    toBase36(state.nextToken),
    encodeRuns(state.runs, subnet),
    encodePending(state.pending, subnet),
    encodeCooling(state.cooling, subnet),
  ].join(";");
  rememberEncoded(text, subnet, state);
  return text;
}

function decodeText(text: string, what: string): string {
  try {
    const s = decodeURIComponent(text);
    if (s.length > 0) return s;
  } catch {
    // fall through to the error below
  }
  throw corrupt(`${what} '${text}' is not a non-empty URI-encoded string`);
}

function decodePending(text: string, subnet: CIDR, runs: readonly AllocationRun[]): PendingReservation[] {
  if (text === "") return [];
  const ids = new Set<string>();
  const owners = new Set<string>();
  const heldAnywhere = new Set<bigint>();
  return text.split(",").map((entry, i) => {
    const fields = entry.split("|");
    const [idText = "", ownerText = "", expiresText = "", heldText = ""] = fields;
    if (fields.length !== 4) throw corrupt(`pending entry ${i} '${entry}' does not have 4 fields`);
    const id = decodeText(idText, `pending entry ${i} id`);
    const owner = ownerText === "" ? undefined : decodeText(ownerText, `pending entry ${i} owner`);
    const expiresAt = parseSafe36(expiresText);
    if (expiresAt === undefined) throw corrupt(`pending entry ${i} has a bad expiry '${expiresText}'`);
    if (ids.has(id)) throw corrupt(`reservation ${id} appears twice`);
    ids.add(id);
    if (owner !== undefined) {
      if (owners.has(owner)) throw corrupt(`owner ${owner} has two pending reservations`);
      owners.add(owner);
    }
    const interfaces = new Set<string>();
    const held: HeldAddress[] = (heldText === "" ? [] : heldText.split("+")).map((item) => {
      const [offsetText = "", nicText = "", ...rest] = item.split("@");
      const offset = parseBig36(offsetText);
      if (offset === undefined || rest.length > 0 || offset > subnet.last - subnet.network) {
        throw corrupt(`reservation ${id} has a bad held address '${item}'`);
      }
      const address = subnet.network + offset;
      const nic = decodeText(nicText, `reservation ${id} interface`);
      const token = tokenAt(runs, address);
      if (token === undefined) throw corrupt(`reservation ${id} holds ${formatIP(subnet.family, address)}, which no run holds`);
      if (heldAnywhere.has(address)) throw corrupt(`${formatIP(subnet.family, address)} is in two reservations`);
      if (interfaces.has(nic)) throw corrupt(`reservation ${id} holds two addresses for ${nic}`);
      heldAnywhere.add(address);
      interfaces.add(nic);
      return { address, token, interface: nic };
    });
    if (held.length === 0) throw corrupt(`reservation ${id} holds nothing`);
    const r: PendingReservation = owner === undefined ? { id, expiresAt, held } : { id, owner, expiresAt, held };
    pendingText.set(r, { subnet, text: entry });
    return r;
  });
}

function decodeCooling(text: string, subnet: CIDR, runs: readonly AllocationRun[]): CoolingAddress[] {
  if (text === "") return [];
  const size = subnet.last - subnet.network + 1n;
  let nextOffset = 0n;
  let until = 0;
  return text.split(",").map((entry, i) => {
    const [gapText = "", deltaText, ...rest] = entry.split(":");
    const gap = gapText === "" ? 0n : parseBig36(gapText);
    const delta = deltaText === undefined ? 0 : parseSigned36(deltaText);
    const canonical = (i === 0 ? gapText !== "" : gapText !== "0") && deltaText !== "0";
    if (gap === undefined || delta === undefined || rest.length > 0 || !canonical) {
      throw corrupt(`cooling entry ${i} '${entry}' is malformed`);
    }
    const offset = nextOffset + gap;
    if (offset >= size) throw corrupt(`cooling entry ${i} lies outside the subnet`);
    until += delta;
    if (!Number.isSafeInteger(until) || until < 0) throw corrupt(`cooling entry ${i} has a bad time`);
    const address = subnet.network + offset;
    if (tokenAt(runs, address) !== undefined) {
      throw corrupt(`${formatIP(subnet.family, address)} is both held and cooling down`);
    }
    nextOffset = offset + 1n;
    return { address, until };
  });
}

/**
 * Strict decoding: any deviation from what encodeAllocations writes is ALLOCATION_CORRUPT,
 * because guessing here could hand one address to two Pods. An absent record is an empty pool.
 */
export function decodeAllocations(text: string | undefined, subnet: CIDR): PoolAllocations {
  if (text === undefined || text === "") return emptyAllocations();
  return memoizedDecode(text, subnet, decodeRecord);
}

function decodeRecord(text: string, subnet: CIDR): PoolAllocations {
  const parts = text.split(";");
  if (parts[0] !== ALLOCATIONS_VERSION) {
    throw corrupt(`unknown format '${(parts[0] ?? "").slice(0, 8)}', expected '${ALLOCATIONS_VERSION};'`);
  }
  if (parts.length !== 5) throw corrupt(`expected 5 ';'-separated sections, found ${parts.length}`);
  const [, nextText = "", runsText = "", pendingText = "", coolingText = ""] = parts;
  const nextToken = parseSafe36(nextText);
  if (nextToken === undefined || nextToken < FIRST_TOKEN) throw corrupt(`bad next token '${nextText}'`);
  const runs = decodeRuns(runsText, subnet, nextToken);
  const pending = decodePending(pendingText, subnet, runs);
  const cooling = decodeCooling(coolingText, subnet, runs);
  return { nextToken, runs, pending, cooling };
}
