import { request } from "node:https";

/** Where a controller's admission port is, and the CA its serving certificate chains to. */
export interface AdmissionTarget {
  port: number;
  ca: string;
}

export interface AdmissionAnswer {
  status: number;
  /** The parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
}

/**
 * Sends one AdmissionReview straight to a controller's webhook port, as the apiserver
 * would. Every test that posts reviews directly (the fuzz suites) goes through this one
 * function, so the way the apiserver authenticates itself (a client certificate) is added
 * in one place.
 */
export function sendAdmissionReview(target: AdmissionTarget, webhook: string, review: unknown): Promise<AdmissionAnswer> {
  const text = typeof review === "string" ? review : JSON.stringify(review);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: target.port, path: `/webhooks/${webhook}`, method: "POST", ca: target.ca, headers: { "content-type": "application/json" } },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => {
          let parsed: unknown = body;
          try {
            parsed = JSON.parse(body);
          } catch {
            // kept as text: the property checks say what was wrong
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on("error", reject);
    req.end(text);
  });
}
