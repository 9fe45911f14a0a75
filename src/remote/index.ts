// Public face of remote mode: the HTTP MCP server with its OAuth 2.1 authorization server,
// plus the state helpers the `auth` CLI commands need.
export { requestConsentUnlock } from "./consent-guard.js";
export { RemoteSetupError } from "./errors.js";
export {
  type ClientSummary,
  OAuthStore,
  resetOAuthState,
  revokeClient,
  summarizeClients,
} from "./oauth-store.js";
export { setOwnerPassword, validateNewOwnerPassword } from "./owner-password.js";
export {
  assertRemoteReady,
  type RemoteServerOptions,
  type RunningRemoteServer,
  startRemoteServer,
} from "./server.js";
export { defaultStateDir } from "./state-dir.js";
