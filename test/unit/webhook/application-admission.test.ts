import { describe, expect, it } from "@jest/globals";
import { IpamError } from "../../../ipam/errors.js";
import type { ApplicationKind, Workload } from "../../../ipam/kinds/application.js";
import { applicationValidatingHandler } from "../../../webhook/admission/application.js";
import { parseReview, type AdmissionRequest } from "../../../webhook/admission/review.js";
import { RecordingLog } from "../../fakes/log.js";
import scaleReview from "./fixtures/deployment-scale-review.json" with { type: "json" };

interface Call {
  kind: ApplicationKind;
  name?: string;
  replicas?: number;
  dryRun: boolean;
}

function handlerWith(fail?: Error) {
  const calls: Call[] = [];
  const deployment: Workload = { metadata: { name: "web", namespace: "shop", uid: "6f2b0c1d-9a8e-4f7b-b3c2-1d0e9f8a7b6c" }, spec: { replicas: 10 } };
  const handler = applicationValidatingHandler({
    pools: {
      forApplication: (kind, w, o) => {
        calls.push({ kind, name: w.metadata.name, ...(o.replicas !== undefined ? { replicas: o.replicas } : {}), dryRun: o.dryRun });
        return fail ? Promise.reject(fail) : Promise.resolve([]);
      },
    },
    apps: { get: (ref) => Promise.resolve(ref.kind === "Deployment" && ref.name === "web" ? deployment : undefined) },
    log: new RecordingLog(),
  });
  return { handler, calls };
}

const request = (over: Partial<AdmissionRequest>): AdmissionRequest => ({
  uid: "u1",
  kind: { group: "apps", version: "v1", kind: "Deployment" },
  resource: { group: "apps", version: "v1", resource: "deployments" },
  namespace: "shop",
  operation: "CREATE",
  userInfo: {},
  object: { metadata: { name: "web", uid: "x" }, spec: { replicas: 3, template: { metadata: { annotations: { "ipam.spidernet.io/subnet": '{"ipv4":["s"]}' } } } } },
  ...over,
});

describe("application admission", () => {
  it("sizes a created application, in the request's namespace", async () => {
    const { handler, calls } = handlerWith();
    const answer = await handler(request({}));
    expect(answer.response?.allowed).toBe(true);
    expect(calls).toEqual([{ kind: "Deployment", name: "web", dryRun: false }]);
  });

  it("sizes a scale request for its replicas, reading the application it scales", async () => {
    const { handler, calls } = handlerWith();
    expect((await handler(parseReview(scaleReview))).response?.allowed).toBe(true);
    expect(calls).toEqual([{ kind: "Deployment", name: "web", replicas: 20, dryRun: false }]);
  });

  it("passes over updates that change nothing a pool depends on, other subresources and other resources", async () => {
    const { handler, calls } = handlerWith();
    const obj = request({}).object as Workload;
    await handler(request({ operation: "UPDATE", object: { ...obj, metadata: { ...obj.metadata, labels: { a: "b" } } }, oldObject: obj }));
    await handler(request({ operation: "UPDATE", subResource: "status", object: obj, oldObject: obj }));
    await handler(request({ resource: { group: "", version: "v1", resource: "pods" } }));
    const scale = parseReview(scaleReview);
    await handler({ ...scale, object: scale.oldObject });
    expect(calls).toEqual([]);
    await handler(request({ operation: "UPDATE", object: { ...obj, spec: { ...obj.spec, replicas: 4 } }, oldObject: obj }));
    expect(calls).toHaveLength(1);
  });

  it("hands a dry run down as one", async () => {
    const { handler, calls } = handlerWith();
    await handler(request({ dryRun: true }));
    expect(calls[0]?.dryRun).toBe(true);
  });

  it("refuses with the reason and its code, naming the application", async () => {
    const { handler } = handlerWith(new IpamError("POOL_TOO_LARGE", "an automatic pool holds at most 100 addresses (--auto-pool-max-ips)"));
    expect((await handler(request({}))).response).toMatchObject({ allowed: false, status: { code: 403, reason: "POOL_TOO_LARGE", message: "Deployment shop/web: an automatic pool holds at most 100 addresses (--auto-pool-max-ips)" } });
    const named = handlerWith(new IpamError("POOL_EXHAUSTED", "Deployment shop/web needs 5 addresses for eth0: …"));
    expect((await named.handler(request({}))).response?.status?.message).toBe("Deployment shop/web needs 5 addresses for eth0: …");
    const broken = handlerWith(new Error("apiserver unreachable"));
    expect((await broken.handler(request({}))).response?.status).toMatchObject({ code: 500, message: expect.stringContaining("the request can be retried") });
  });
});
