import { homedir } from "node:os";
import { join } from "node:path";

/** `$MAC_MESSAGES_MCP_HOME`, else `~/.mac-messages-mcp` (the path the remote-access guide documents). */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.MAC_MESSAGES_MCP_HOME?.trim();
  return fromEnv ? fromEnv : join(homedir(), ".mac-messages-mcp");
}
