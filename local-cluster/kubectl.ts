import { execFile } from "node:child_process";
import { findBinary } from "./binaries.js";

/** Runs the real kubectl against the cluster of `kubeconfig`; rejects with its stderr. */
export function kubectl(kubeconfig: string, args: string[], stdin?: string): Promise<string> {
  const env = { ...process.env, KUBECONFIG: kubeconfig };
  return new Promise((resolve, reject) => {
    const child = execFile(findBinary("kubectl"), args, { env, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`kubectl ${args.join(" ")}: ${stderr || err.message}`)) : resolve(stdout),
    );
    child.stdin?.end(stdin ?? "");
  });
}
