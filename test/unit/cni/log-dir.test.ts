import { describe, expect, it } from "@jest/globals";
import { DEFAULT_LOG_DIR, checkLogPath, parseHostSettings, readLogDir } from "../../../cni/log-dir.js";
import { cniError } from "./helpers.js";

const dir = { dir: "/var/log/spidernet", source: "test" };

describe("the host's log directory", () => {
  it.each(["/var/log/spidernet/spiderpool.log", "/var/log/spidernet/a/b.log", "/var/log/spidernet/./x.log"])("accepts %s", (p) => {
    expect(checkLogPath(p, "ipam.log_file_path", dir).startsWith("/var/log/spidernet/")).toBe(true);
  });

  it.each(["/etc/cron.d/x", "/var/log/spidernet", "/var/log/spidernet/../x.log", "/var/log/spidernet-evil/x.log", "spiderpool.log", "", "/var/log/spidernet/a/../../x"])("refuses %j with code 7 naming the field", (p) => {
    const err = cniError(() => checkLogPath(p, "ipam.log_file_path", dir));
    expect(err.code).toBe(7);
    expect(err.message).toContain("ipam.log_file_path");
    expect(err.details).toContain("/var/log/spidernet");
  });

  it("reads log_dir from the host settings file, the default without one", () => {
    expect(parseHostSettings(undefined, "/etc/x.json").dir).toBe(DEFAULT_LOG_DIR);
    expect(parseHostSettings('{"log_dir": "/srv/logs/"}', "/etc/x.json").dir).toBe("/srv/logs");
    expect(parseHostSettings("{}", "/etc/x.json").dir).toBe(DEFAULT_LOG_DIR);
    expect(cniError(() => parseHostSettings('{"log_dir": "logs"}', "/etc/x.json")).code).toBe(7);
    expect(cniError(() => parseHostSettings("{", "/etc/x.json")).message).toContain("/etc/x.json");
    const missing = Object.assign(new Error("ENOENT"), { code: "ENOENT" });
    expect(readLogDir({}, () => { throw missing; }).dir).toBe(DEFAULT_LOG_DIR);
    expect(readLogDir({ SPIDERPOOL_CNI_HOST_SETTINGS: "/h.json" }, (p) => (p === "/h.json" ? '{"log_dir": "/h"}' : "")).dir).toBe("/h");
  });
});
