// Test-only CLI entry: a commander program with just the remote-mode commands, run as a real child
// process (node --import tsx test/helpers/remote-cli-entry.ts ...). The MCP server factory is the
// small echo/send_message server from remote-fixtures.
import { Command } from "commander";
import { registerAuthCommands } from "../../src/cli/auth.js";
import { registerRemoteCommand } from "../../src/cli/remote.js";
import { makeTestMcpServerFactory, SEND_TOOL } from "./remote-fixtures.js";

const program = new Command("mac-messages-mcp").exitOverride((error) =>
  process.exit(error.exitCode === 0 ? 0 : 2),
);
registerAuthCommands(program);
registerRemoteCommand(program, async () => ({
  createMcpServer: makeTestMcpServerFactory().createMcpServer,
  sendToolNames: [SEND_TOOL],
  drainSends: async () => 0,
  close() {},
}));
await program.parseAsync(process.argv);
