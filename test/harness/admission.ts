import { callController } from "./admission-client.js";

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
 * Sends one AdmissionReview straight to a controller's webhook port as the apiserver does:
 * with the test control plane's webhook client certificate (the only caller the admission
 * routes answer). Every test that posts reviews directly (the fuzz suites) goes through it.
 */
export async function sendAdmissionReview(target: AdmissionTarget, webhook: string, review: unknown): Promise<AdmissionAnswer> {
  const text = typeof review === "string" ? review : JSON.stringify(review);
  const answer = await callController(target.port, `/webhooks/${webhook}`, text, { ca: target.ca, asApiserver: true });
  let parsed: unknown = answer.body;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    // kept as text: the property checks say what was wrong
  }
  return { status: answer.status, body: parsed };
}
