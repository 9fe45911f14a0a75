// The built CLI's first start on a Node writes its code cache (src/cli/code-cache.ts) once it has run a while;
// the starts a user sees after that one use it. The bench's start-up figures are of those starts, so before
// timing any it runs one session and holds it open until the server says (NODE_DEBUG) it used the cache or
// wrote it.
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";

export interface ServerCommand {
  command: string;
  args: string[];
  cwd?: string;
  /** Must set MAC_MESSAGES_MCP_HOME to the state folder the timed starts use: the cache lives there. */
  env: Record<string, string>;
}

export async function warmCodeCache(server: ServerCommand): Promise<void> {
  const transport = new StdioClientTransport({
    command: server.command,
    args: server.args,
    ...(server.cwd ? { cwd: server.cwd } : {}),
    env: { ...server.env, NODE_DEBUG: "mac-messages-mcp" },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const client = new Client({ name: "bench-startup", version: "1.0.0" });
  await client.connect(transport);
  await client.listTools();
  const deadline = Date.now() + 60_000;
  while (!/code cache: (used|wrote|not written)/.test(stderr) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await client.close();
}
