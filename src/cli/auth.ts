import { createInterface } from "node:readline";
import type { Command } from "commander";

/**
 * Remote mode pulls in Express and the OAuth stack; loading it only when an auth/remote command runs keeps
 * the stdio server's start-up lean (it is what Claude Code launches on every session).
 */
export const loadRemote = () => import("../remote/index.js");

/** Prints one clear line instead of a stack trace; exit code 1 for failures, 2 for refused/aborted input. */
export function runCliAction<A extends unknown[]>(action: (...args: A) => Promise<void> | void) {
  return async (...args: A): Promise<void> => {
    try {
      await action(...args);
    } catch (error) {
      const exitCode = error instanceof CliUsageError ? 2 : 1;
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`mac-messages-mcp: ${message}\n`);
      process.exitCode = exitCode;
    }
  };
}

/** Input the command cannot work with (missing confirmation, mismatched passwords): exit code 2. */
export class CliUsageError extends Error {}

/** Reads one line from the terminal without echoing it (raw mode; readline has no public "mute"). */
function readHiddenLine(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const input = process.stdin;
    process.stderr.write(prompt);
    input.setRawMode(true);
    input.resume();
    input.setEncoding("utf8");
    let value = "";
    const finish = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.removeListener("data", onData);
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === "\r" || char === "\n") return finish();
        if (char === "\u0003" || char === "\u0004") return finish(new CliUsageError("Aborted."));
        if (char === "\u007f" || char === "\b") value = value.slice(0, -1);
        else if (char >= " ") value += char;
      }
    };
    input.on("data", onData);
  });
}

async function readFirstStdinLine(): Promise<string> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  return "";
}

async function askLine(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await new Promise((resolve) => rl.question(prompt, resolve));
  } finally {
    rl.close();
  }
}

function formatTime(seconds: number | undefined): string {
  return seconds === undefined ? "-" : new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, "Z");
}

export function registerAuthCommands(program: Command): void {
  const auth = program
    .command("auth")
    .description("Manage remote-mode authorization: the owner password and OAuth clients/tokens");
  const stateDirOption = [
    "--state-dir <dir>",
    "state directory (default: $MAC_MESSAGES_MCP_HOME or ~/.mac-messages-mcp)",
  ] as const;

  auth
    .command("set-password")
    .description(
      "Set the owner password that approves new clients on the consent page (reads stdin when not a TTY)",
    )
    .option(...stateDirOption)
    .action(
      runCliAction(async (opts: { stateDir?: string }) => {
        const { defaultStateDir, setOwnerPassword, validateNewOwnerPassword } = await loadRemote();
        const stateDir = opts.stateDir ?? defaultStateDir();
        let password: string;
        if (process.stdin.isTTY) {
          password = await readHiddenLine("New owner password: ");
          const problem = validateNewOwnerPassword(password);
          if (problem) throw new CliUsageError(problem);
          const again = await readHiddenLine("Repeat owner password: ");
          if (again !== password) throw new CliUsageError("The passwords do not match; nothing was changed.");
        } else {
          password = await readFirstStdinLine();
          const problem = validateNewOwnerPassword(password);
          if (problem) throw new CliUsageError(problem);
        }
        await setOwnerPassword(stateDir, password);
        process.stdout.write(`Owner password saved in ${stateDir}.\n`);
      }),
    );

  auth
    .command("list")
    .description("List registered OAuth clients and their active tokens")
    .option(...stateDirOption)
    .option("--json", "machine-readable output")
    .action(
      runCliAction(async (opts: { stateDir?: string; json?: boolean }) => {
        const { defaultStateDir, summarizeClients } = await loadRemote();
        // `auth list | head` closes the pipe early: that is the reader being done, not an error to report.
        process.stdout.on("error", (error: NodeJS.ErrnoException) => {
          if (error.code === "EPIPE") process.exit(0);
          throw error;
        });
        const clients = summarizeClients(opts.stateDir ?? defaultStateDir());
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(clients, null, 2)}\n`);
          return;
        }
        if (clients.length === 0) {
          process.stdout.write("No registered clients.\n");
          return;
        }
        for (const c of clients) {
          const hosts = [...new Set(c.redirectUris.map((u) => (URL.canParse(u) ? new URL(u).host : u)))].join(
            ", ",
          );
          process.stdout.write(
            `${c.clientId}  ${c.clientName ?? "(unnamed)"}\n` +
              `  redirect: ${hosts}\n` +
              `  registered: ${formatTime(c.registeredAt)}  approved: ${formatTime(c.approvedAt)}\n` +
              `  active tokens: ${c.activeAccessTokens} access, ${c.activeRefreshTokens} refresh; scopes: ${c.scopes.join(" ") || "-"}\n`,
          );
        }
      }),
    );

  auth
    .command("revoke <clientId>")
    .description("Remove a client and all its tokens (it must be approved again)")
    .option(...stateDirOption)
    .action(
      runCliAction(async (clientId: string, opts: { stateDir?: string }) => {
        const { defaultStateDir, RemoteSetupError, revokeClient } = await loadRemote();
        if (!revokeClient(opts.stateDir ?? defaultStateDir(), clientId)) {
          throw new RemoteSetupError(
            `No registered client with id ${clientId} (see \`mac-messages-mcp auth list\`).`,
          );
        }
        process.stdout.write(`Revoked client ${clientId} and all its tokens.\n`);
      }),
    );

  auth
    .command("unlock")
    .description(
      "Lift the consent-page lockout after wrong owner passwords (a running server picks it up at once)",
    )
    .option(...stateDirOption)
    .action(
      runCliAction(async (opts: { stateDir?: string }) => {
        const { defaultStateDir, requestConsentUnlock } = await loadRemote();
        const stateDir = opts.stateDir ?? defaultStateDir();
        requestConsentUnlock(stateDir);
        process.stdout.write(`Consent page unlocked for every address (${stateDir}).\n`);
      }),
    );

  auth
    .command("reset")
    .description("Forget all clients and tokens; the old state file is moved aside, never deleted")
    .option(...stateDirOption)
    .option("-y, --yes", "do not ask for confirmation")
    .action(
      runCliAction(async (opts: { stateDir?: string; yes?: boolean }) => {
        const { defaultStateDir, resetOAuthState } = await loadRemote();
        const stateDir = opts.stateDir ?? defaultStateDir();
        if (!opts.yes) {
          if (!process.stdin.isTTY) throw new CliUsageError("auth reset needs confirmation: pass --yes.");
          const answer = await askLine("This signs out every client. Type 'yes' to continue: ");
          if (answer.trim().toLowerCase() !== "yes") throw new CliUsageError("Aborted; nothing was changed.");
        }
        const movedTo = resetOAuthState(stateDir);
        process.stdout.write(
          movedTo
            ? `OAuth state reset. The old file was moved to ${movedTo}.\n`
            : "OAuth state was already empty.\n",
        );
      }),
    );
}
