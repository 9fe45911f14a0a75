// Public face of remote mode: the HTTP MCP server with its OAuth 2.1 authorization server,
// plus the state helpers the `auth` CLI commands need.

export { requestConsentUnlock } from "./consent-guard.js";
export { RemoteSetupError } from "./errors.js";
export { setOwnerPassword, validateNewOwnerPassword } from "./ownerPassword.js";
export {
  assertRemoteReady,
  type RemoteServerOptions,
  type RunningRemoteServer,
  startRemoteServer,
} from "./server.js";
export { defaultStateDir } from "./stateDir.js";
export {
  loadOAuthState,
  resetOAuthState,
  revokeClient,
  summarizeClients,
} from "./stateStore.js";
