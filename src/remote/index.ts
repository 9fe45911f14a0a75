// Public face of remote mode: the HTTP MCP server with its OAuth 2.1 authorization server,
// plus the state helpers the `auth` CLI commands need.
export { RemoteSetupError } from "./errors.js";
export type { LogLevel } from "./logger.js";
export {
  MIN_OWNER_PASSWORD_LENGTH,
  OWNER_PASSWORD_FILE,
  setOwnerPassword,
  validateNewOwnerPassword,
} from "./ownerPassword.js";
export { SCOPE_READ, SCOPE_SEND, SUPPORTED_SCOPES } from "./scopes.js";
export {
  assertRemoteReady,
  parseServerUrl,
  type RemoteServerOptions,
  type RunningRemoteServer,
  startRemoteServer,
} from "./server.js";
export { defaultStateDir } from "./stateDir.js";
export {
  type ClientSummary,
  loadOAuthState,
  OAUTH_STATE_FILE,
  oauthStatePath,
  resetOAuthState,
  revokeClient,
  summarizeClients,
} from "./stateStore.js";
