import { describe, expect, it } from "@jest/globals";
import { checkAnnotationSizes, MAX_READ_ANNOTATION_BYTES } from "../../../../ipam/annotations/limits.js";
import { AnnotationError, IpamError } from "../../../../ipam/errors.js";

describe("annotation limits", () => {
  it("refuses a value that is not a string with the annotation named, not a TypeError", () => {
    // The apiserver only sends strings; a review written by hand can carry anything.
    const call = (): void => checkAnnotationSizes({ "ipam.spidernet.io/ippool": ["a"] } as unknown as Record<string, string>);
    expect(call).toThrow(AnnotationError);
    expect(call).toThrow(/annotation ipam.spidernet.io\/ippool .*annotation values are strings/);
  });

  it("refuses an annotation Spiderpool reads when it is larger than it reads", () => {
    const call = (): void => checkAnnotationSizes({ "ipam.spidernet.io/ippool": "x".repeat(MAX_READ_ANNOTATION_BYTES) });
    expect(call).toThrow(IpamError);
    expect(call).toThrow(/shorten it/);
  });
});
