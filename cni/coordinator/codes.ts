/**
 * The coordinator's own CNI error codes (the spec leaves 100 and up to plugins). The
 * spec's codes it uses (1, 2, 4, 5, 6, 7, 11, 50) keep their meaning; docs/coordinator.md
 * has one row per code here, and a unit test holds the two together.
 */
export const COORDINATOR_ERROR_CODES = {
  /** An `ip`, `nsenter`, `sysctl`, `arping` or `ping` run failed; msg names it, details hold its output. */
  COMMAND_FAILED: 200,
  /** An address of the NIC answered an ARP probe (IPv4) or failed duplicate address detection (IPv6). */
  IP_CONFLICT: 201,
  /** detectGateway: the NIC's gateway did not answer. */
  GATEWAY_UNREACHABLE: 202,
  /** CHECK: something ADD made is missing or different; msg names it. */
  CHECK_FAILED: 203,
  /** A host tool the configuration needs (ip, nsenter, arping, ping, sysctl) is not installed. */
  TOOL_MISSING: 204,
  /** The Pod's state does not fit the configuration: no veth0 from the first NIC, a table clash, ... */
  POD_STATE: 205,
  /** An unexpected failure inside the coordinator: a bug. */
  INTERNAL: 209,
} as const;
