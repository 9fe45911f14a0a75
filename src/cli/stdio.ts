// `mac-messages-mcp` with no command: serve MCP over stdin/stdout for a local client (Claude Code, …).
// stdout is the MCP channel, so every human-facing word goes to stderr.
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createMcpServer } from "../mcp/index.js";
import { type DataOptions, type OpenedStores, openServingStores } from "./stores.js";

export const CONNECT_HINT = "claude mcp add messages -- npx mac-messages-mcp";

export function banner(stores: OpenedStores, readOnly: boolean): string {
  const what = stores.deps.demo
    ? `the built-in demo data (${stores.chatDbPath})`
    : `Messages from ${stores.chatDbPath}`;
  return [
    `mac-messages-mcp: serving ${what} over MCP on stdin/stdout${readOnly ? " (read-only: no send tool)" : ""}.`,
    "This terminal is not an MCP client. Connect one instead, e.g. Claude Code:",
    `    ${CONNECT_HINT}`,
    "Check permissions with `mac-messages-mcp doctor`. Press Ctrl-C to stop.",
  ].join("\n");
}

export async function serveStdio(options: DataOptions): Promise<void> {
  const stores = await openServingStores(options);
  if (process.stdin.isTTY) process.stderr.write(`${banner(stores, options.readOnly ?? false)}\n`);

  const server = createMcpServer(stores.deps);
  const transport = new StdioServerTransport();
  let closed = false;
  const shutdown = () => {
    if (closed) return;
    closed = true;
    void server
      .close()
      .then(() => stores.close())
      .finally(() => process.exit(0));
  };
  // The client closing our stdin is the normal way a stdio server is told to stop.
  process.stdin.once("end", shutdown);
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
  await server.connect(transport);
}
