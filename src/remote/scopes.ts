export const SCOPE_READ = "messages:read";
export const SCOPE_SEND = "messages:send";
export const SUPPORTED_SCOPES: readonly string[] = [SCOPE_READ, SCOPE_SEND];
