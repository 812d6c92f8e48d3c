/**
 * The Dockerfile, built without a Docker engine: its RUN steps run for real in stand-in
 * stage directories (test/harness/dockerfile.ts), then the last stage's files are checked
 * against what the Helm chart runs from the image. npm ci runs with --prefer-offline: after
 * the `npm ci` that precedes every test run its packages are in npm's cache.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { REPO_ROOT } from "../../local-cluster/binaries.js";
// @ts-expect-error: a JavaScript module without types
import { HOST_PLUGINS as hostPlugins } from "../../scripts/bundle.mjs";

/** The CNI plugins a host runs (scripts/bundle.mjs: the PROGRAMS rows with a host name). */
const HOST_PLUGINS = hostPlugins as readonly { program: string; binary: string }[];
import { chartContainer, renderChart } from "../../local-cluster/chart.js";
import { copyOf, ignoredBy, readDockerfile, StageFs, type Stage } from "../harness/dockerfile.js";

let tmp: string;
let stages: Stage[];
const fsOf = new Map<string, StageFs>();
/** Sources a COPY names that did not exist when it ran. */
const missing: string[] = [];
const meta: Record<string, string> = {};

/** The build context: what git knows of the working tree (tracked, or untracked and not ignored), minus .dockerignore. */
function buildContext(dir: string): void {
  const listed = spawnSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: REPO_ROOT, encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  const ignored = ignoredBy(readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8"));
  for (const f of listed) if (!ignored(f) && existsSync(join(REPO_ROOT, f))) cpSync(join(REPO_ROOT, f), join(dir, f));
}

function build(stage: Stage, context: string): void {
  const fs = new StageFs(join(tmp, "stages", stage.name));
  fsOf.set(stage.name, fs);
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_prefer_offline: "true", npm_config_update_notifier: "false" };
  for (const i of stage.instructions) {
    if (i.op === "WORKDIR") fs.workdir = posix.resolve(fs.workdir, i.args);
    else if (i.op === "COPY") {
      const c = copyOf(i);
      for (const src of c.sources) {
        const from = c.from ? (fsOf.get(c.from)?.at(src) ?? "") : join(context, src);
        if (existsSync(from)) fs.copyIn(from, c.dest);
        else missing.push(`line ${i.line}: ${c.from ? `stage ${c.from}` : "the context"} has no ${src}`);
      }
    } else if (i.op === "RUN") {
      const res = fs.run(i.args, env);
      if (res.status !== 0) throw new Error(`Dockerfile line ${i.line}, RUN ${i.args}, failed (${res.status}):\n${res.output.slice(-3000)}`);
    } else meta[i.op] = i.args;
  }
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "spiderpool-image-"));
  const context = join(tmp, "context");
  buildContext(context);
  stages = readDockerfile(join(REPO_ROOT, "Dockerfile"));
  for (const stage of stages) build(stage, context);
}, 900_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const image = (): StageFs => fsOf.get(stages.at(-1)?.name ?? "") as StageFs;
/** A path of the image (absolute, as the chart names it) on this machine. */
const inImage = (path: string): string => image().at(path);

describe("the container image (Dockerfile)", () => {
  it("builds in stages and runs as a non-root user by default", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(meta.USER).toMatch(/^[1-9][0-9]*(:[0-9]+)?$/);
  });

  it("copies into each stage only what exists when it is copied", () => {
    expect(missing).toEqual([]);
    expect(stages.at(-1)?.instructions.filter((i) => i.op === "COPY").length).toBeGreaterThan(0);
  });

  it("holds every file the chart's containers run, and no development packages", () => {
    const objects = renderChart({ release: "spiderpool", namespace: "kube-system" });
    const containers = [chartContainer(objects, "controller"), chartContainer(objects, "agent"), chartContainer(objects, "agent", "install-cni")];
    const paths = containers.flatMap((c) => [...(c.command ?? []), ...(c.args ?? [])]).filter((a) => a.startsWith("/opt/"));
    expect(paths.length).toBeGreaterThanOrEqual(4);
    expect(paths.filter((p) => !existsSync(inImage(p)))).toEqual([]);
    for (const dev of ["typescript", "jest", "esbuild", "eslint"]) expect({ dev, present: existsSync(inImage(`/opt/spiderpool/node_modules/${dev}`)) }).toEqual({ dev, present: false });
  });

  it("runs spiderpool-controller and spiderpool-agent from the image's bundles and packages", () => {
    const run = (file: string, args: string[]) => spawnSync(process.execPath, [inImage(file), ...args], { env: { PATH: "/usr/bin:/bin" }, encoding: "utf8", timeout: 30_000 });
    // A bad setting exits 2 after every module has loaded: the packages the bundles import are there.
    const controller = run("/opt/spiderpool/webhook/spiderpool-controller.mjs", ["--log-level=loud"]);
    expect({ status: controller.status, stderr: controller.stderr }).toEqual({ status: 2, stderr: expect.stringContaining("--log-level / SPIDERPOOL_LOG_LEVEL is 'loud'") });
    const agent = run("/opt/spiderpool/agent/spiderpool-agent.mjs", []);
    expect({ status: agent.status, stderr: agent.stderr }).toEqual({ status: 2, stderr: expect.stringContaining("--node-name / NODE_NAME is required") });
  });

  it("installs every CNI plugin of scripts/bundle.mjs on a host as the chart's init container does, chained as asked", () => {
    const host = join(tmp, "host");
    const init = chartContainer(renderChart({ release: "spiderpool", namespace: "kube-system", values: { cni: { macvlan: { master: "eth1", coordinator: true } } } }), "agent", "install-cni");
    const [command = "", ...args] = (init.command ?? []).map((a) => (a.startsWith("/opt/spiderpool") ? inImage(a) : a.replace(/^\/host\//, `${host}/`)));
    mkdirSync(host, { recursive: true });
    const res = spawnSync(command, args, { encoding: "utf8", env: { PATH: "/usr/bin:/bin" } });
    expect({ status: res.status, log: res.stderr }).toEqual({ status: 0, log: expect.stringContaining("installed") });
    // The list of plugins comes from one place: the PROGRAMS rows with a host name.
    expect(HOST_PLUGINS.map((p) => p.binary).sort()).toEqual(["coordinator", "spiderpool"]);
    for (const { binary } of HOST_PLUGINS) {
      const version = spawnSync(join(host, "opt/cni/bin", binary), [], { env: { CNI_COMMAND: "VERSION", PATH: "/nonexistent" }, input: "", encoding: "utf8" });
      expect({ binary, version: JSON.parse(version.stdout || "{}") as unknown }).toMatchObject({ binary, version: { supportedVersions: expect.arrayContaining(["1.0.0"]) } });
    }
    expect(JSON.parse(readFileSync(join(host, "etc/cni/net.d/90-spiderpool-macvlan.conflist"), "utf8"))).toMatchObject({ plugins: [{ type: "macvlan", master: "eth1", ipam: { type: "spiderpool" } }, { type: "coordinator" }] });
  });
});
