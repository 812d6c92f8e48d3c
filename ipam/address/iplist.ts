import { IpamError } from "../errors.js";
import type { Family } from "./ip.js";
import { IPSet } from "./ipset.js";
import { type FamilyRange, parseRange } from "./range.js";

/**
 * Parses the API list syntax (`["10.6.0.5", "10.6.0.10-10.6.0.99"]`) into a set. The family
 * is the given one, else the first entry's; an entry of the other family is an error. The
 * `field` names the list in messages (`excludeIPs[2]: ...`) so a user finds the bad entry.
 */
export function parseIPList(entries: readonly string[], family?: Family, field = "ips"): IPSet {
  if (!Array.isArray(entries)) {
    throw new IpamError("RANGE_INVALID", `${field} must be a list of addresses or ranges`, { field });
  }
  const ranges: FamilyRange[] = [];
  let fam = family;
  // Checked one by one: the list may come straight from unvalidated JSON.
  const list: readonly unknown[] = entries;
  list.forEach((entry, i) => {
    try {
      const r = parseRange(entry as string, fam);
      fam = r.family;
      ranges.push(r);
    } catch (err) {
      if (err instanceof IpamError) {
        throw new IpamError(err.code, `${field}[${i}]: ${err.message}`, { ...err.details, field, index: i });
      }
      throw err;
    }
  });
  if (fam === undefined) {
    throw new IpamError("RANGE_INVALID", `${field} is empty and has no ipVersion to tell its family`, { field });
  }
  return IPSet.of(fam, ranges);
}

/** The canonical form stored by the mutating webhook: merged, sorted, one notation. */
export function formatIPList(set: IPSet): string[] {
  return set.toStrings();
}

export function canonicalIPList(entries: readonly string[], family?: Family, field = "ips"): string[] {
  return formatIPList(parseIPList(entries, family, field));
}
