import { describe, expect, it } from "@jest/globals";
import { ippoolCrd } from "../../../ipam/kinds/ippool.crd.js";
import { multusConfigCrd } from "../../../ipam/kinds/multus-config.crd.js";
import { shapeViolations } from "../../../ipam/kinds/shape.js";
import type { Schema } from "../../../ipam/kinds/crd-common.js";

const pool = ippoolCrd.spec as Schema;

describe("a spec's JSON types against its CRD schema", () => {
  it("passes a well-typed spec and absent fields", () => {
    expect(shapeViolations({ subnet: "10.0.0.0/24", ips: ["10.0.0.1"], routes: [{ dst: "10.1.0.0/16", gw: "10.0.0.1" }], vlan: 5, default: true }, pool, "spec")).toEqual([]);
    expect(shapeViolations({}, pool, "spec")).toEqual([]);
  });

  // Regressions found by the admission fuzzing (test/integration/fuzz-admission.test.ts):
  // each of these reached the rules and crashed them into an HTTP 500.
  it.each([
    [{ routes: {} }, "spec.routes must be a list (got an object)"],
    [{ ips: "10.0.0.1" }, "spec.ips must be a list (got a string)"],
    [{ ips: [1] }, "spec.ips[0] must be a string (got a number)"],
    [{ vlan: 0.5 }, "spec.vlan must be a whole number (got a number)"],
    [{ default: "yes" }, "spec.default must be true or false (got a string)"],
    [{ podAffinity: [] }, "spec.podAffinity must be an object (got a list)"],
    [{ podAffinity: null }, "spec.podAffinity must be an object (got null)"],
  ])("refuses %j naming the field", (spec, message) => {
    expect(shapeViolations(spec, pool, "spec").map((v) => v.message)).toEqual([message]);
  });

  it("reaches nested specs (a multus config's ovs trunk)", () => {
    const v = shapeViolations({ cniType: "ovs", ovs: { bridge: "br0", trunk: {} } }, multusConfigCrd.spec as Schema, "spec");
    expect(v.map((x) => x.field)).toEqual(["spec.ovs.trunk"]);
  });
});
