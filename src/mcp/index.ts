// Public face of the MCP layer: the server factory and what the CLI and remote mode need around it.
export {
  createMcpServer,
  READ_TOOL_NAMES,
  SEND_TOOL_NAMES,
  SERVER_NAME,
  SERVER_VERSION,
  serverInstructions,
} from "./server.js";
export type { ServerDeps } from "./tools/context.js";
export {
  AUTOMATION_FIX,
  type CheckStatus,
  FULL_DISK_ACCESS_FIX,
  formatSetupReport,
  runSetupChecks,
  type SetupCheck,
  type SetupReport,
} from "./tools/setup.js";
