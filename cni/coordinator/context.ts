/** What every command of one coordinator run works with. */
import type { CniEnv } from "../env.js";
import type { Logger } from "../log.js";
import type { CoordinatorConf } from "./config.js";
import type { HostTools } from "./host-tools.js";
import type { Settings } from "./settings.js";

export interface RunContext {
  env: CniEnv;
  conf: CoordinatorConf;
  settings: Settings;
  tools: HostTools;
  log: Logger;
  /** A PID in the node's network namespace (the plugin's own): where the host end of the veth goes. */
  pid: number;
}
