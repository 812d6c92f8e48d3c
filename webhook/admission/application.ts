import { isDeepStrictEqual } from "node:util";
import { isIpamError, type IpamError } from "../../ipam/errors.js";
import { APPLICATION_KINDS, kindOfResource, sizingInputs, type ApplicationKind, type Workload } from "../../ipam/kinds/application.js";
import type { ApplicationPools } from "../../ipam/lifecycle/application-pools.js";
import type { ApplicationDirectory, Log } from "../../ipam/ports.js";
import { allow, deny, type AdmissionHandler, type AdmissionRequest } from "./review.js";

export interface ApplicationWebhookOptions {
  pools: Pick<ApplicationPools, "forApplication">;
  /** Where a scale request's application is read (the Scale object carries no template). */
  apps: Pick<ApplicationDirectory, "get">;
  log: Log;
}

/** The autoscaling/v1 Scale of a scale subresource request. */
interface Scale {
  metadata?: { name?: string; namespace?: string };
  spec?: { replicas?: number };
}

/** The application and the replicas to size for; undefined when this request changes nothing a pool depends on. */
interface Sizing {
  kind: ApplicationKind;
  workload: Workload;
  replicas?: number;
}

const GROUPS = new Set(["apps", "batch"]);

/** A scale subresource request: the application read back, sized for the Scale's replicas when they change. */
async function scaleSizing(req: AdmissionRequest, kind: ApplicationKind, apps: ApplicationWebhookOptions["apps"]): Promise<Sizing | undefined> {
  const replicas = (req.object as Scale | undefined)?.spec?.replicas;
  if (replicas === undefined || replicas === (req.oldObject as Scale | undefined)?.spec?.replicas) return undefined;
  const workload = await apps.get({ apiVersion: APPLICATION_KINDS[kind].apiVersion, kind, namespace: req.namespace ?? "", name: req.name ?? "" });
  return workload ? { kind, workload, replicas } : undefined;
}

/** The object itself: on CREATE, and on an UPDATE that changes what its pool's size depends on. */
function objectSizing(req: AdmissionRequest, kind: ApplicationKind): Sizing | undefined {
  const workload = req.object as Workload | undefined;
  if (!workload || workload.metadata.deletionTimestamp) return undefined;
  const old = req.oldObject as Workload | undefined;
  if (req.operation === "UPDATE" && old && isDeepStrictEqual(sizingInputs(old), sizingInputs(workload))) return undefined;
  return { kind, workload: { ...workload, metadata: { ...workload.metadata, namespace: workload.metadata.namespace ?? req.namespace } } };
}

function sizingOf(req: AdmissionRequest, apps: ApplicationWebhookOptions["apps"]): Promise<Sizing | undefined> | Sizing | undefined {
  const kind = GROUPS.has(req.resource.group) ? kindOfResource(req.resource.resource) : undefined;
  if (!kind || (req.operation !== "CREATE" && req.operation !== "UPDATE")) return undefined;
  if (req.subResource === "scale") return scaleSizing(req, kind, apps);
  return req.subResource ? undefined : objectSizing(req, kind);
}

const httpCodeOf = (err: IpamError): number => (err.code === "ANNOTATION_INVALID" ? 422 : 403);

/**
 * Validating webhook on the applications (Deployment, ReplicaSet, StatefulSet, DaemonSet,
 * Job, CronJob; CREATE, UPDATE and the scale subresource). It runs where the object has its
 * uid and final name (a mutating webhook sees neither on CREATE) and sizes the application's
 * automatic pools before its Pods arrive. A malformed annotation, a size beyond the limit, a
 * subnet change or a subnet too small refuses the request with the reason. A dry run
 * computes the answer and writes nothing.
 */
export function applicationValidatingHandler(o: ApplicationWebhookOptions): AdmissionHandler {
  return async (req) => {
    const s = await sizingOf(req, o.apps);
    if (!s) return allow(req);
    const { kind, workload } = s;
    const what = `${kind} ${workload.metadata.namespace ?? ""}/${workload.metadata.name ?? ""}`;
    try {
      const pools = await o.pools.forApplication(kind, workload, { ...(s.replicas !== undefined ? { replicas: s.replicas } : {}), dryRun: req.dryRun === true });
      if (pools.length > 0) o.log.debug({ app: what, pools: pools.map((p) => p.metadata.name), dryRun: req.dryRun === true }, "automatic pools sized");
      return allow(req);
    } catch (err) {
      if (isIpamError(err)) {
        o.log.info({ app: what, code: err.code, reason: err.message }, "application refused");
        // Most reasons name the application already; the others get it in front.
        return deny(req, err.message.includes(what) ? err.message : `${what}: ${err.message}`, httpCodeOf(err), err.code);
      }
      o.log.error({ err, app: what }, "sizing an automatic pool failed");
      return deny(req, `Spiderpool could not size the automatic pool of ${what}: ${(err as Error).message}; the request can be retried`, 500, "InternalError");
    }
  };
}
