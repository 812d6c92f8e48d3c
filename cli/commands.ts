import { checkCommand, gcCommand } from "./commands/consistency.js";
import { releaseCommand } from "./commands/release.js";
import { usageCommand } from "./commands/usage.js";
import { whoCommand } from "./commands/who.js";
import { whyCommand } from "./commands/why.js";
import type { Command } from "./context.js";

/** Every command of `kubectl spiderpool`, in the order the help lists them. */
export const COMMANDS: readonly Command[] = [usageCommand, whoCommand, whyCommand, checkCommand, releaseCommand, gcCommand];

export const GLOBAL_FLAGS = [
  "  --kubeconfig FILE           the kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config)",
  "  --context NAME              the kubeconfig context to use",
  "  -n, --namespace NS          the Pod's namespace (why)",
  "  -o, --output json|yaml      structured output instead of text",
  "  --pool NAME                 one pool only (usage, who, release)",
  "  -y, --yes                   release without asking",
  "  --no-color                  plain text even on a terminal (also: NO_COLOR=1)",
  "  --controller-webhook NAME   the MutatingWebhookConfiguration that names the controller (default spiderpool-mutating)",
  "  --controller-url URL        call the controller here instead (https://host:port)",
  "  --controller-ca FILE        the CA of --controller-url (default: the webhook configuration's caBundle)",
  "  --token TOKEN               bearer token for the controller's routes (default: the kubeconfig user's;",
  "                              needed when it signs in with a client certificate, see docs/security.md)",
  "  --system-namespace NS       the controller's namespace, for spiderpool-conf (default spiderpool)",
  "  -h, --help                  this help, or a command's",
].join("\n");

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "kubectl spiderpool: look into Spiderpool's IP address management.",
    "",
    "Usage: kubectl spiderpool COMMAND [flags]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Flags:",
    GLOBAL_FLAGS,
    "",
    "kubectl spiderpool COMMAND --help shows a command's details and an example.",
    "",
  ].join("\n");
}

export function commandHelp(c: Command): string {
  return [`Usage: kubectl spiderpool ${c.usage}`, "", c.summary, "", c.help, "", "Flags:", GLOBAL_FLAGS, ""].join("\n");
}
