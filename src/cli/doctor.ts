// `mac-messages-mcp doctor`: the check_setup diagnostics, printed for a person, exit code 0/1.
import { formatSetupReport, runSetupChecks } from "../mcp/index.js";
import { type DataOptions, openStores } from "./stores.js";

/** Prints the report to `out` and returns the exit code: 0 when every check passed, else 1. */
export async function runDoctor(
  options: DataOptions,
  out: (text: string) => void = (t) => process.stdout.write(t),
): Promise<number> {
  const stores = await openStores(options);
  try {
    const source = stores.deps.demo
      ? "demo data"
      : `from ${stores.source.kind === "real" ? stores.source.chatDbFrom : "default"}`;
    out(
      `mac-messages-mcp doctor\n  chat.db:  ${stores.chatDbPath} (${source})\n  Contacts: ${stores.contactsRoots.join(", ")}\n\n`,
    );
    const report = await runSetupChecks(stores.deps);
    out(`${formatSetupReport(report)}\n`);
    return report.ok ? 0 : 1;
  } finally {
    await stores.close();
  }
}
