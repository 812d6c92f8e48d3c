/**
 * The CNI_* environment and CNI_ARGS, parsed into plain values. Pure: main.ts passes
 * process.env in, tests pass tables.
 */
import { invalidEnv } from "./errors.js";
import { type CniCommand, isCommand } from "./versions.js";

export interface CniEnv {
  command: CniCommand;
  containerID: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS, unparsed (see parseCniArgs). */
  args: string;
  /** CNI_PATH: read for the logs only; an IPAM plugin that runs no other plugin needs none. */
  path: string;
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** Which variables each command cannot do without (as libcni's skel, minus CNI_PATH). */
const REQUIRED: Readonly<Record<CniCommand, readonly string[]>> = {
  ADD: ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"],
  CHECK: ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"],
  // The runtime may have lost the namespace by the time it deletes: DEL must still work.
  DEL: ["CNI_CONTAINERID", "CNI_IFNAME"],
  VERSION: [],
  GC: [],
  STATUS: [],
};

// The spec: starts with an alphanumeric, then alphanumerics, '_', '.' or '-'.
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function readCniEnv(env: Environment): CniEnv {
  const command = env.CNI_COMMAND ?? "";
  if (command === "") throw invalidEnv("required env variables [CNI_COMMAND] missing");
  if (!isCommand(command)) {
    throw invalidEnv(`unknown CNI_COMMAND: ${command}`, "expected one of ADD, DEL, CHECK, VERSION, GC, STATUS");
  }
  const missing = REQUIRED[command].filter((name) => (env[name] ?? "") === "");
  if (missing.length > 0) throw invalidEnv(`required env variables [${missing.join(",")}] missing`);

  const parsed: CniEnv = {
    command,
    containerID: env.CNI_CONTAINERID ?? "",
    netns: env.CNI_NETNS ?? "",
    ifName: env.CNI_IFNAME ?? "",
    args: env.CNI_ARGS ?? "",
    path: env.CNI_PATH ?? "",
  };
  if (parsed.containerID !== "" && !CONTAINER_ID.test(parsed.containerID)) {
    throw invalidEnv("invalid characters in CNI_CONTAINERID", parsed.containerID);
  }
  if (parsed.ifName !== "") {
    const problem = interfaceNameProblem(parsed.ifName);
    if (problem !== undefined) throw invalidEnv(`invalid CNI_IFNAME: ${problem}`, parsed.ifName);
  }
  return parsed;
}

/** Linux's rules for a link name, as the spec states them. */
export function interfaceNameProblem(name: string): string | undefined {
  if (name === "") return "it is empty";
  if (name === "." || name === "..") return "it is '.' or '..'";
  if (Buffer.byteLength(name) > 15) return "it is longer than 15 bytes";
  if (/[/:\s]/.test(name)) return "it contains '/', ':' or whitespace";
  return undefined;
}

/**
 * CNI_ARGS: `K=V` pairs separated by ';'. Unknown keys are allowed whatever
 * `IgnoreUnknown` says: this plugin reads only the K8S_* keys. A value may contain '='.
 */
export function parseCniArgs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of text.split(";")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    if (eq <= 0) throw invalidEnv(`invalid CNI_ARGS pair '${pair}'`, "CNI_ARGS is a list of KEY=VALUE separated by ';'");
    out.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return out;
}

export interface PodIdentity {
  namespace: string;
  name: string;
  uid?: string;
  infraContainerID?: string;
}

/** The Pod a Kubernetes runtime names in CNI_ARGS; undefined when it names none. */
export function podIdentity(args: ReadonlyMap<string, string>): PodIdentity | undefined {
  const namespace = args.get("K8S_POD_NAMESPACE") ?? "";
  const name = args.get("K8S_POD_NAME") ?? "";
  if (namespace === "" && name === "") return undefined;
  if (namespace === "" || name === "") {
    const missing = namespace === "" ? "K8S_POD_NAMESPACE" : "K8S_POD_NAME";
    throw invalidEnv(`CNI_ARGS has no ${missing}`, "a Kubernetes runtime passes both K8S_POD_NAMESPACE and K8S_POD_NAME");
  }
  const pod: PodIdentity = { namespace, name };
  const uid = args.get("K8S_POD_UID");
  if (uid !== undefined && uid !== "") pod.uid = uid;
  const infra = args.get("K8S_POD_INFRA_CONTAINER_ID");
  if (infra !== undefined && infra !== "") pod.infraContainerID = infra;
  return pod;
}

/** ADD and CHECK cannot go on without knowing the Pod. */
export function requirePod(args: ReadonlyMap<string, string>): PodIdentity {
  const pod = podIdentity(args);
  if (pod === undefined) {
    throw invalidEnv(
      "CNI_ARGS has no K8S_POD_NAMESPACE and K8S_POD_NAME",
      "spiderpool serves Kubernetes Pods: the runtime must pass the Pod's namespace and name in CNI_ARGS",
    );
  }
  return pod;
}
