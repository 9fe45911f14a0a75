// `mac-messages-mcp` with no command: serve MCP over stdin/stdout for a local client (Claude Code, …).
// stdout is the MCP channel, so every human-facing word goes to stderr.
import { serveStdio as serveMcpOverStdio } from "@modelcontextprotocol/server/stdio";
import { createMcpServer } from "../mcp/index.js";
import { BoundedStdioTransport } from "./bounded-stdio.js";
import { type DataOptions, type OpenedStores, openServingStores } from "./stores.js";

export const CONNECT_HINT = "claude mcp add messages -- mac-messages-mcp";

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

/** What the launcher (main.ts) is told while serving. */
export interface ServeHooks {
  /** After each answer to a tools/call: the code cache is written again after the first (code-cache.ts). */
  toolCallAnswered?: () => void;
}

export async function serveStdio(options: DataOptions, hooks: ServeHooks = {}): Promise<void> {
  const stores = await openServingStores(options);
  if (process.stdin.isTTY) process.stderr.write(`${banner(stores, options.readOnly ?? false)}\n`);

  // The SDK's stdio entry decides each connection's protocol era from its opening message: a 2026-07-28
  // client (server/discover, per-request _meta) and a 2025-era client (initialize) are both served, each by
  // a server the factory builds over the same stores. (It may also build one for a discarded probe.)
  // The wire is ours (bounded-stdio.ts): oversized frames answered and skipped, reading paused while the
  // client is not reading our answers.
  const handle = serveMcpOverStdio(() => createMcpServer(stores.deps), {
    transport: new BoundedStdioTransport({ toolCallAnswered: hooks.toolCallAnswered }),
    onerror: (error) => process.stderr.write(`mac-messages-mcp: ${error.message}\n`),
  });
  let closed = false;
  const shutdown = () => {
    if (closed) return;
    closed = true;
    // A send already handed to osascript is let finish and audited (it may be delivering right now);
    // past the osascript timeout it is recorded as interrupted instead. Nothing new starts meanwhile.
    void stores
      .drainSends()
      .then(() => handle.close())
      .then(() => stores.close())
      .finally(() => process.exit(0));
  };
  // The client closing our stdin is the normal way a stdio server is told to stop.
  process.stdin.once("end", shutdown);
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}
