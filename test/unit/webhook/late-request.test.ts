import { describe, expect, it } from "@jest/globals";
import { lateRequestProblem } from "../../../webhook/late-request.js";

const good = { namespace: "app", name: "web-0", uid: "u1", node: "node-a", interface: "eth0" };

describe("a late-allocation body", () => {
  it("passes a well-formed request", () => {
    expect(lateRequestProblem(good)).toBeUndefined();
  });

  // Found by test/integration/fuzz-node.test.ts: "%2F" as the namespace went to the apiserver,
  // whose 400 came back as an HTTP 500 from the controller.
  it.each([
    [{ ...good, namespace: "%2F" }, "namespace '%2F' is not a valid namespace name"],
    [{ ...good, name: ".." }, "name '..' is not a valid Pod name"],
    [{ ...good, uid: ["x"] }, "uid is missing or not a string"],
    [0.5, "namespace, name, uid, node, interface are missing or not a string"],
  ])("refuses %j naming the field", (body, message) => {
    expect(lateRequestProblem(body)).toContain(message);
  });
});
