import { describe, expect, it } from "@jest/globals";
import { API_VERSION } from "../../ipam/kinds/meta.js";

describe("toolchain", () => {
  it("loads ESM TypeScript through ts-jest", () => {
    expect(API_VERSION).toBe("spiderpool.spidernet.io/v2beta1");
  });
});
