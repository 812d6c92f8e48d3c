// The kubectl plugin's entry point (bin/kubectl-spiderpool runs it): the process around runCli.
import { createInterface } from "node:readline/promises";
import { runCli } from "./main.js";

const tty = process.stdout.isTTY === true;
const ask = process.stdin.isTTY
  ? async (question: string): Promise<string> => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    }
  : undefined;

process.exitCode = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  io: { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), tty, ...(ask ? { ask } : {}) },
});
