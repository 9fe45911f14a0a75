import { resolveStateDir } from "../config/index.js";

/**
 * `$MAC_MESSAGES_MCP_HOME` (with `~` expanded), else `~/.mac-messages-mcp` (the path the remote-access guide
 * documents). One resolver for the whole program: the CLI's, so remote mode and stdio agree on the folder.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolveStateDir({ env });
}
