export const SCOPE_READ = "messages:read";
export const SCOPE_SEND = "messages:send";
export const SUPPORTED_SCOPES: readonly string[] = [SCOPE_READ, SCOPE_SEND];

/**
 * The scopes a request may be granted: the supported subset of what it asked for (RFC 6749 §3.3 lets the
 * server grant less, and the token response says what was granted), so `openid`, `offline_access` or a
 * client's own scope names do not fail the flow. Asking for none of ours means the default, everything;
 * the owner still chooses on the consent page. Reading is part of every grant: nothing works without it.
 */
export function grantableScopes(scope: string | undefined): string[] {
  const requested = (scope ?? "").split(" ").filter((s) => SUPPORTED_SCOPES.includes(s));
  return requested.length === 0
    ? [...SUPPORTED_SCOPES]
    : SUPPORTED_SCOPES.filter((s) => s === SCOPE_READ || requested.includes(s));
}

/** What the tool layer calls a permission: each scope unlocks one (messages:read → read, messages:send → send). */
export type ScopePermission = "read" | "send";

/** The tool permissions a token's scopes grant, so a token without messages:send does not even list send tools. */
export function permissionsForScopes(scopes: readonly string[]): ScopePermission[] {
  const permissions: ScopePermission[] = [];
  if (scopes.includes(SCOPE_READ)) permissions.push("read");
  if (scopes.includes(SCOPE_SEND)) permissions.push("send");
  return permissions;
}
