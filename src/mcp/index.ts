// Public face of the MCP layer: the server factory and what the CLI and remote mode need around it.

export type { ServerDeps } from "./core/server-deps.js";
export {
  AUTOMATION_FIX,
  type CheckStatus,
  FULL_DISK_ACCESS_FIX,
  formatSetupReport,
  runSetupChecks,
  type SetupCheck,
  type SetupReport,
} from "./core/setup-checks.js";
export {
  createMcpServer,
  SERVER_NAME,
  SERVER_VERSION,
  type ServerOptions,
  serverInstructions,
} from "./server.js";
export type { AnyToolDefinition, ToolPermission } from "./tool-definition.js";
export { READ_TOOL_NAMES, SEND_TOOL_NAMES, selectTools, TOOLS, toolsForPermissions } from "./tool-list.js";
