import { describe, expect, it } from "@jest/globals";
import { copyOf, ignoredBy, parseDockerfile } from "../../harness/dockerfile.js";

describe("the Dockerfile reader of the image test", () => {
  it("splits stages, joins continued lines, drops comments and substitutes leading ARGs", () => {
    const stages = parseDockerfile(["ARG BASE=node:20", "# a comment", "FROM ${BASE} AS build", "RUN a && \\", "    b", "FROM ${BASE}", "COPY --from=build /src/x ./y", "USER 1000"].join("\n"));
    expect(stages.map((s) => [s.name, s.from])).toEqual([["build", "node:20"], ["1", "node:20"]]);
    expect(stages[0]?.instructions).toEqual([{ op: "RUN", args: "a &&      b", line: 4 }]);
    expect(copyOf(stages[1]?.instructions[0] as never)).toEqual({ from: "build", sources: ["/src/x"], dest: "./y" });
  });

  it("reads .dockerignore as prefixes and globs", () => {
    const ignored = ignoredBy("# x\nnode_modules\n*.log\n");
    expect(["node_modules/a/b.js", "x.log", "src/a.ts", "node_modulesx"].map(ignored)).toEqual([true, true, false, false]);
  });
});
