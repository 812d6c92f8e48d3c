import { isObject } from "./json-patch.js";

/**
 * The admission.k8s.io/v1 AdmissionReview envelope and the small pure functions that build
 * answers. Every answer echoes the request uid; a patch always comes with patchType.
 */
export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
}

const OPERATIONS = ["CREATE", "UPDATE", "DELETE", "CONNECT"] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface AdmissionRequest<T = unknown> {
  uid: string;
  kind: GroupVersionKind;
  resource: { group: string; version: string; resource: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: Operation;
  userInfo: UserInfo;
  object?: T;
  oldObject?: T;
  dryRun?: boolean;
  options?: unknown;
}

export interface AdmissionStatus {
  code: number;
  message: string;
  reason?: string;
  details?: { retryAfterSeconds?: number };
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: AdmissionStatus;
  patch?: string;
  patchType?: "JSONPatch";
  warnings?: string[];
}

export interface AdmissionReview<T = unknown> {
  apiVersion: "admission.k8s.io/v1";
  kind: "AdmissionReview";
  request?: AdmissionRequest<T>;
  response?: AdmissionResponse;
}

export interface JsonPatchOp {
  op: "add" | "remove" | "replace";
  path: string;
  value?: unknown;
}

/** Answers one admission review; may throw, which the server turns into an HTTP 500. */
export type AdmissionHandler = (req: AdmissionRequest) => AdmissionReview | Promise<AdmissionReview>;

/** Reads an AdmissionReview body; throws a plain Error naming what is wrong with the envelope. */
export function parseReview(body: unknown): AdmissionRequest {
  if (typeof body !== "object" || body === null) throw new Error("the body is not a JSON object");
  const review = body as Partial<AdmissionReview>;
  if (review.apiVersion !== "admission.k8s.io/v1" || review.kind !== "AdmissionReview") {
    throw new Error(`expected an admission.k8s.io/v1 AdmissionReview, got ${String(review.apiVersion)} ${String(review.kind)}`);
  }
  const req = review.request;
  if (!req || typeof req.uid !== "string" || typeof req.operation !== "string") {
    throw new Error("the AdmissionReview has no request with a uid and an operation");
  }
  checkObjects(req);
  checkRequestShape(req);
  return req;
}

/** The objects a handler reads are Kubernetes objects (the apiserver never sends another shape; a forged review may). */
function checkObjects(req: AdmissionRequest): void {
  for (const field of ["object", "oldObject"] as const) {
    const value = req[field];
    if (value === undefined || value === null) continue;
    if (!isObject(value) || !isObject(value.metadata)) throw new Error(`request.${field} must be a Kubernetes object with metadata`);
    checkMetadata(field, value.metadata);
  }
  if ((req.operation === "CREATE" || req.operation === "UPDATE") && !isObject(req.object)) throw new Error(`request.object is required for ${req.operation}`);
}

/** The metadata fields handlers walk (owners, annotations, labels) have Kubernetes' shape. */
function checkMetadata(field: string, metadata: Record<string, unknown>): void {
  const { ownerReferences, annotations, labels } = metadata;
  if (ownerReferences != null && (!Array.isArray(ownerReferences) || !ownerReferences.every(isObject))) {
    throw new Error(`request.${field}.metadata.ownerReferences must be a list of objects`);
  }
  for (const [name, map] of [["annotations", annotations], ["labels", labels]] as const) {
    if (map != null && (!isObject(map) || !Object.values(map).every((v) => typeof v === "string"))) {
      throw new Error(`request.${field}.metadata.${name} must map names to strings`);
    }
  }
}

/**
 * The request fields handlers read have the shape the apiserver always sends: a forged
 * envelope without it is the client's mistake (400), not the webhook's failure (500).
 */
function checkRequestShape(req: AdmissionRequest): void {
  if (!(OPERATIONS as readonly unknown[]).includes(req.operation)) throw new Error(`request.operation must be CREATE, UPDATE, DELETE or CONNECT, not ${JSON.stringify(req.operation)}`);
  const resource: unknown = req.resource;
  if (!isObject(resource) || !["group", "version", "resource"].every((k) => typeof resource[k] === "string")) {
    throw new Error("request.resource must name the group, version and resource as strings");
  }
  for (const field of ["namespace", "name", "subResource"] as const) {
    if (req[field] != null && typeof req[field] !== "string") throw new Error(`request.${field} must be a string`);
  }
  if (req.dryRun != null && typeof req.dryRun !== "boolean") throw new Error("request.dryRun must be true or false");
  if (typeof req.userInfo !== "object" || req.userInfo === null) throw new Error("request.userInfo is missing");
}

function envelope(response: AdmissionResponse): AdmissionReview {
  return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response };
}

export function allow(req: Pick<AdmissionRequest, "uid">, patch: JsonPatchOp[] = [], warnings: string[] = []): AdmissionReview {
  const response: AdmissionResponse = { uid: req.uid, allowed: true };
  if (patch.length > 0) {
    response.patch = Buffer.from(JSON.stringify(patch)).toString("base64");
    response.patchType = "JSONPatch";
  }
  if (warnings.length > 0) response.warnings = warnings;
  return envelope(response);
}

/**
 * A refusal. `message` is what kubectl prints after "admission webhook ... denied the
 * request:", so it is one sentence naming the field, the value and the rule.
 */
export function deny(req: Pick<AdmissionRequest, "uid">, message: string, code = 422, reason = "Invalid"): AdmissionReview {
  return envelope({ uid: req.uid, allowed: false, status: { code, message, reason } });
}

/**
 * A refusal the client should simply repeat (the controller is not ready yet): 503 with
 * details.retryAfterSeconds, which the apiserver turns into a Retry-After header that
 * client-go and kubectl honour by retrying.
 */
export function retryLater(req: Pick<AdmissionRequest, "uid">, message: string, retryAfterSeconds = 1): AdmissionReview {
  return envelope({ uid: req.uid, allowed: false, status: { code: 503, message, reason: "ServiceUnavailable", details: { retryAfterSeconds } } });
}

/** Answers retryLater until `synced` says the caches have their first list: nothing is judged on a half-filled cache. */
export function whenSynced(synced: () => boolean, handler: AdmissionHandler): AdmissionHandler {
  return (req) => (synced() ? handler(req) : retryLater(req, "spiderpool-controller is still loading its caches (pools, subnets, reserved IPs); the request can be repeated in a moment"));
}
