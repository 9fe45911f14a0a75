// The built CLI's first start on a Node writes its code cache (src/cli/code-cache.ts) once it has run a while,
// and writes it again a while after the first tool call it answers, so that it also holds what that call
// compiled; the starts a user sees after a first session that made a call use that cache. The bench's start-up
// figures and its page sessions' first calls are of those starts, so before timing any it runs one session as
// a user's first would be (the tools listed, then one call: list_chats) and holds it open until the server says
// (NODE_DEBUG) it wrote the cache with the call, or used one that has it. The session is the tests'
// (test/helpers/stdio-session.ts, as npm-package.test.ts's code-cache sessions use it): it ends once the server
// has exited, so the first timed start does not overlap it.
import { type StdioServerCommand, withStdioSession } from "../test/helpers/stdio-session.js";
import { waitUntil } from "../test/helpers/wait.js";

/** `server.env` must set MAC_MESSAGES_MCP_HOME to the state folder the timed starts use: the cache lives there. */
export async function warmCodeCache(server: StdioServerCommand): Promise<void> {
  const debug = { ...server, env: { ...server.env, NODE_DEBUG: "mac-messages-mcp" } };
  await withStdioSession(debug, async ({ client, stderr }) => {
    await client.listTools();
    await client.callTool({ name: "list_chats", arguments: { limit: 5 } });
    // Not said within a minute: the timed starts go ahead all the same, as before there was this wait.
    await waitUntil(
      () => /code cache: (wrote .*with a tool call|used \(with a tool call\)|not written)/.test(stderr()),
      "the server's code cache report",
      60_000,
    ).catch(() => {});
  });
}
