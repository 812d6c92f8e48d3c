import { describe, expect, it } from "@jest/globals";
import {
  formatIPPoolAnnotation,
  formatIPPoolsAnnotation,
  formatNamespaceDefaultPools,
  formatSubnetAnnotation,
  formatSubnetsAnnotation,
  parseIPPoolAnnotation,
  parseIPPoolsAnnotation,
  parseNamespaceDefaultPools,
  parseSubnetAnnotation,
  parseSubnetsAnnotation,
} from "../../../../ipam/annotations/pools.js";
import { AnnotationError } from "../../../../ipam/errors.js";

function refusal(fn: () => unknown): AnnotationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AnnotationError) return err;
    throw err;
  }
  throw new Error("expected an AnnotationError");
}

describe("ipam.spidernet.io/ippool", () => {
  it("parses both families in the user's order and formats back", () => {
    const a = parseIPPoolAnnotation('{"ipv4":["b","a*"],"ipv6":["c"]}');
    expect(a).toEqual({ ipv4: ["b", "a*"], ipv6: ["c"] });
    expect(parseIPPoolAnnotation(formatIPPoolAnnotation(a))).toEqual(a);
  });

  it("accepts the legacy interface field", () => {
    expect(parseIPPoolAnnotation('{"interface":"net1","ipv4":["a"]}')).toEqual({ interface: "net1", ipv4: ["a"], ipv6: [] });
  });

  it.each([
    ['{"ipv4":"a"}', `field ipv4 must be a JSON list of pool names, e.g. {"ipv4":["pool-a"],"ipv6":["pool-a6"]}`],
    ['{"ipv4":["a"],"interface":7}', "field interface must be a non-empty string"],
    ["{ipv4:[a]}", "not valid JSON"],
    ["[]", "the value must be a JSON object"],
    ['{"ipv4":[]}', "names no pool"],
    ['{"ipV4":["a"]}', "unknown field 'ipV4'; allowed: ipv4, ipv6, interface"],
    ['{"ipv4":["a","a"]}', "names pool 'a' twice"],
    ['{"ipv4":["Pool_A"]}', "'Pool_A', which is not a valid pool name"],
    ['{"ipv4":[1]}', "must be a JSON list of pool names"],
  ])("refuses %s", (value, problem) => {
    const err = refusal(() => parseIPPoolAnnotation(value));
    expect(err.code).toBe("ANNOTATION_INVALID");
    expect(err.message.startsWith(`annotation ipam.spidernet.io/ippool has value '${value}': `)).toBe(true);
    expect(err.message).toContain(problem);
    expect(err.details).toMatchObject({ annotation: "ipam.spidernet.io/ippool", value });
  });
});

describe("ipam.spidernet.io/ippools", () => {
  it("keeps interfaces and cleangateway", () => {
    const v = '[{"interface":"eth0","ipv4":["a"],"cleangateway":true},{"interface":"net1","ipv6":["b"]}]';
    const p = parseIPPoolsAnnotation(v);
    expect(p).toEqual([
      { interface: "eth0", ipv4: ["a"], ipv6: [], cleanGateway: true },
      { interface: "net1", ipv4: [], ipv6: ["b"], cleanGateway: false },
    ]);
    expect(parseIPPoolsAnnotation(formatIPPoolsAnnotation(p))).toEqual(p);
  });

  it("names entries eth0, net1, … when no interface is given", () => {
    const p = parseIPPoolsAnnotation('[{"ipv4":["a"]},{"interface":"","ipv4":["b"]},{"ipv4":["c"]}]');
    expect(p.map((e) => e.interface)).toEqual(["eth0", "net1", "net2"]);
  });

  it.each([
    ['[{"interface":"eth0","ipv4":["a"]},{"ipv4":["b"]}]', "interface must be set on every entry or on none"],
    ['[{"interface":"eth0","ipv4":["a"]},{"interface":"eth0","ipv4":["b"]}]', "interface eth0 appears twice"],
    ["[]", "the list is empty"],
    ['[{"interface":"eth0","ipv4":["a"],"cleangateway":"yes"}]', "entry 0 field cleangateway must be true or false"],
    ['{"interface":"eth0","ipv4":["a"]}', "the value must be a JSON list"],
  ])("refuses %s", (value, problem) => {
    expect(refusal(() => parseIPPoolsAnnotation(value)).message).toContain(problem);
  });
});

describe("subnet annotations and namespace defaults", () => {
  it("subnet defaults to eth0; subnets is the list form", () => {
    const s = parseSubnetAnnotation('{"ipv4":["s4"],"ipv6":["s6"]}');
    expect(s).toEqual({ interface: "eth0", ipv4: ["s4"], ipv6: ["s6"] });
    expect(parseSubnetAnnotation(formatSubnetAnnotation(s))).toEqual(s);
    const list = parseSubnetsAnnotation('[{"interface":"eth0","ipv4":["s4"]},{"interface":"net1","ipv4":["t4"]}]');
    expect(list.map((x) => x.interface)).toEqual(["eth0", "net1"]);
    expect(parseSubnetsAnnotation(formatSubnetsAnnotation(list))).toEqual(list);
    expect(refusal(() => parseSubnetAnnotation('{"ipv4":["s4"],"cleangateway":true}')).message).toContain("unknown field 'cleangateway'");
  });

  it("namespace defaults are a JSON list of names", () => {
    expect(parseNamespaceDefaultPools(4, '["a","b"]')).toEqual(["a", "b"]);
    expect(parseNamespaceDefaultPools(6, formatNamespaceDefaultPools(["x"]))).toEqual(["x"]);
    const err = refusal(() => parseNamespaceDefaultPools(6, '"a"'));
    expect(err.message).toMatch(/^annotation ipam\.spidernet\.io\/default-ipv6-ippool has value '"a"': the value must be a JSON list/);
  });
});

describe("error text", () => {
  it("names the annotation, quotes the value and shows what is expected", () => {
    expect(refusal(() => parseIPPoolAnnotation('{"ipv4":"a"}')).message).toBe(
      `annotation ipam.spidernet.io/ippool has value '{"ipv4":"a"}': field ipv4 must be a JSON list of pool names, e.g. {"ipv4":["pool-a"],"ipv6":["pool-a6"]}`,
    );
  });
});
