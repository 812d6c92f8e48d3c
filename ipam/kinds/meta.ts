import type { Family } from "../address/ip.js";

/** The slice of Kubernetes object metadata the core reads. Adapters pass real objects in. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  /** Bumped by the apiserver on every change of a custom resource's spec (not its status). */
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string | Date;
  creationTimestamp?: string | Date;
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** A Kubernetes label selector (matchLabels + matchExpressions). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface LabelSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: string[];
}

export const GROUP = "spiderpool.spidernet.io";
export const VERSION = "v2beta1";
export const API_VERSION = `${GROUP}/${VERSION}`;
/** `spec.ipVersion`: the address family. */
export type IPVersion = Family;

export interface Route {
  dst: string;
  gw: string;
}

/** A NetworkAttachmentDefinition (k8s.cni.cncf.io/v1) a NIC is attached through. */
export interface NetworkRef {
  readonly namespace: string;
  readonly name: string;
}
