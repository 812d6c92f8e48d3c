import type { PoolRequest, PoolResponse } from "./allocation/requests.js";
import type { ObjectRef, Workload } from "./kinds/application.js";
import type { SpiderEndpoint } from "./kinds/endpoint.js";
import type { SpiderIPPool } from "./kinds/ippool.js";
import type { NetworkRef, ObjectMeta } from "./kinds/meta.js";
import type { NetworkAttachmentDefinition } from "./kinds/network-attachment.js";

/**
 * The ports of the core: the narrow interfaces through which the core's services (ipam/
 * lifecycle) reach the world. Adapters implement them (k8s/ over the apiserver, runtime/ for
 * the clock and logs); tests implement them with fakes (test/fakes/). Nothing here does I/O.
 */

/** A read view of objects of one kind, as an informer holds them: possibly behind the apiserver. */
export interface Cache<T> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): readonly T[];
}

/** A write lost a compare-and-swap (HTTP 409): read again and retry. */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConflictError";
  }
}

/** What a delete must still find for it to go through (the apiserver's preconditions). */
export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

/**
 * Reads and writes of one kind at the source of truth. Every write carries the object's
 * resourceVersion: when the object changed since it was read the write throws ConflictError.
 * Called by the core's services only on the path that changes state, never to answer from.
 */
export interface ObjectStore<T extends { metadata: ObjectMeta }> {
  /** A live read; undefined when there is no such object. */
  get(name: string, namespace?: string): Promise<T | undefined>;
  /** Throws ConflictError when an object of that name exists. */
  create(obj: T): Promise<T>;
  /** Spec and metadata, if the resourceVersion is still current. */
  replace(obj: T): Promise<T>;
  /** The status subresource, if the resourceVersion is still current. */
  replaceStatus(obj: T): Promise<T>;
  /** Deletes with preconditions; an object already gone is not an error, one that no longer matches throws ConflictError. */
  delete(name: string, namespace: string | undefined, preconditions: Preconditions): Promise<void>;
}

/** Where pools are read from and written to: allocation state changes through replaceStatus only. */
export type PoolStore = Pick<ObjectStore<SpiderIPPool>, "get" | "replaceStatus">;

/** Endpoints have no status subresource: created with their record, and replaced whole. */
export type EndpointStore = Omit<ObjectStore<SpiderEndpoint>, "replaceStatus">;

/** Applies requests to pools: the one way allocation state changes. */
export interface Allocator {
  /** Resolves once the request's outcome is stored (or, for a dry run, computed). */
  submit(pool: string, request: PoolRequest): Promise<PoolResponse>;
  /** Tells the allocator about a pool read or written elsewhere (fresher than its cache, maybe). */
  observe?(pool: SpiderIPPool): void;
  /** The freshest copy of a pool it knows (what it wrote last, or the cache's when newer). */
  latest?(pool: string): SpiderIPPool | undefined;
}

/** Time, so that retries, TTLs and cool-downs can be driven by a fake in tests. */
export interface Clock {
  /** Milliseconds since the epoch, whole. */
  now(): number;
  /** Waits ms; ends early, without an error, once `signal` aborts (a stopping program leaves no timer behind). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Structured logs, the slice of pino the core uses (pino's Logger satisfies it). */
export interface Log {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  child(bindings: object): Log;
}

/** The object an Event is about. */
export interface EventSubject {
  apiVersion: string;
  kind: string;
  metadata: Pick<ObjectMeta, "name" | "namespace" | "uid">;
}

/** Records a Kubernetes Event; never throws (an Event that cannot be written is logged). */
export type EventRecorder = (subject: EventSubject, type: "Normal" | "Warning", reason: string, message: string) => Promise<void>;

/**
 * Finds a NetworkAttachmentDefinition by reference: the informer's copy, else a live read (one
 * created a moment before the Pod may not be cached yet). Undefined when there is none.
 */
export type NetworkLookup = (ref: NetworkRef) => Promise<NetworkAttachmentDefinition | undefined>;

/**
 * Where applications (the owners of Pods: Deployments, StatefulSets, …, and third-party
 * custom resources) are read. Called at admission (a Pod's owners, a scale's application)
 * and by the reconciler of automatic pools.
 */
export interface ApplicationDirectory {
  /** The object from a cache where one is kept for its kind, else (or when the cache lacks it) a live read; undefined when there is none. */
  get(ref: ObjectRef): Promise<Workload | undefined>;
  /** A live read, to confirm that an application is gone before acting on it. */
  read(ref: ObjectRef): Promise<Workload | undefined>;
}
