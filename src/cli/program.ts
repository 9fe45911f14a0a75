// The `mac-messages-mcp` command (run by main.ts): stdio MCP server by default, plus doctor, remote and auth commands.
import "./zod-settings.js";
import { Command, Option } from "commander";
import { PACKAGE_INFO, resolveReadOnly } from "../config/index.js";
import { createMcpServer, SEND_TOOL_NAMES } from "../mcp/index.js";
import { registerAuthCommands } from "./auth.js";
import { runDoctor } from "./doctor.js";
import { registerRemoteCommand } from "./remote.js";
import { CONNECT_HINT, type ServeHooks, serveStdio } from "./stdio.js";
import { type DataOptions, openServingStores } from "./stores.js";

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** One line on stderr, never a stack trace; exit code 1. */
function fail(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`mac-messages-mcp: ${message.split("\n")[0]}\n`);
  process.exitCode = 1;
}

export function buildProgram(hooks: ServeHooks = {}): Command {
  const program = new Command();
  program
    .name("mac-messages-mcp")
    .description(
      "MCP server for macOS Messages: read chat.db, resolve Contacts, send via Messages.app.\n" +
        `With no command it serves MCP over stdio: ${CONNECT_HINT}`,
    )
    .version(PACKAGE_INFO.version)
    .addOption(
      new Option("--db <path>", "chat.db to read (default: $MAC_MESSAGES_DB or ~/Library/Messages/chat.db)"),
    )
    .addOption(
      new Option(
        "--contacts-dir <dir>",
        "AddressBook folder; repeatable (default: $MAC_MESSAGES_CONTACTS_DIR or ~/Library/Application Support/AddressBook)",
      ).argParser(collect),
    )
    .option("--read-only", "do not offer the sending tools (also: MAC_MESSAGES_READ_ONLY=true)")
    .option("--demo", "serve generated demo data instead of your messages")
    .showHelpAfterError()
    .action(async () => {
      try {
        const options = program.opts<DataOptions>();
        await serveStdio({ ...options, readOnly: resolveReadOnly(options.readOnly) }, hooks);
      } catch (error) {
        fail(error);
      }
    });

  program
    .command("doctor")
    .description(
      "check Full Disk Access, Contacts, Messages automation and Node; prints fixes; exit code 0/1",
    )
    .action(async (_options: unknown, command: Command) => {
      try {
        process.exitCode = await runDoctor(command.optsWithGlobals<DataOptions>());
      } catch (error) {
        fail(error);
      }
    });

  // Remote mode serves the same server over HTTPS with OAuth; the stores are opened once the command's own
  // checks have passed, from the same global options.
  registerRemoteCommand(program, async ({ stateDir }) => {
    // Everything remote mode keeps (index, scheduled messages, audit log) lives beside the OAuth state.
    const stores = await openServingStores({ ...program.opts<DataOptions>(), stateDir });
    return {
      // POST /mcp builds a server per request, so nothing could be notified later: no subscriptions there.
      createMcpServer: (auth, context) =>
        createMcpServer(
          {
            ...stores.deps,
            clientId: auth.clientId,
            subscriptions: context.transport !== "streamable-http",
          },
          // The token's scopes decide which tools exist for this caller (tools/list included).
          { permissions: auth.permissions },
        ),
      sendToolNames: SEND_TOOL_NAMES,
      drainSends: () => stores.drainSends(),
      close: () => stores.close(),
    };
  });
  registerAuthCommands(program);
  return program;
}

/**
 * Runs the command line. Called by main.ts rather than run on import: the built CLI is a CommonJS script
 * (scripts/build-cli.mjs), which cannot await at its top level.
 */
export async function runProgram(argv: string[], hooks: ServeHooks = {}): Promise<void> {
  await buildProgram(hooks)
    .parseAsync(argv)
    .catch((error: unknown) => fail(error));
}
