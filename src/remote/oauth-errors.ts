// One class per OAuth error code (RFC 6749 §4.1.2.1 and §5.2, RFC 7591 §3.2.2, RFC 8707, RFC 6750).
// Every message is written for the person debugging a client, so it is safe to show: it never carries a
// parser dump, a stack or a secret. Anything that is not an OAuthError becomes a bare server_error.

export abstract class OAuthError extends Error {
  abstract readonly code: string;
  /** HTTP status when the error is answered directly (not redirected). */
  readonly status: number = 400;

  toJSON(): { error: string; error_description: string } {
    return { error: this.code, error_description: this.message };
  }
}

export class InvalidRequestError extends OAuthError {
  readonly code = "invalid_request";
}
export class InvalidClientError extends OAuthError {
  readonly code = "invalid_client";
  override readonly status = 401;
}
export class InvalidGrantError extends OAuthError {
  readonly code = "invalid_grant";
}
export class UnauthorizedClientError extends OAuthError {
  readonly code = "unauthorized_client";
}
export class UnsupportedGrantTypeError extends OAuthError {
  readonly code = "unsupported_grant_type";
}
export class UnsupportedResponseTypeError extends OAuthError {
  readonly code = "unsupported_response_type";
}
export class InvalidScopeError extends OAuthError {
  readonly code = "invalid_scope";
}
export class InvalidTargetError extends OAuthError {
  readonly code = "invalid_target";
}
export class AccessDeniedError extends OAuthError {
  readonly code = "access_denied";
  override readonly status = 403;
}
export class InvalidClientMetadataError extends OAuthError {
  readonly code = "invalid_client_metadata";
}
export class InvalidRedirectUriError extends OAuthError {
  readonly code = "invalid_redirect_uri";
}
export class InvalidTokenError extends OAuthError {
  readonly code = "invalid_token";
  override readonly status = 401;
}
export class TemporarilyUnavailableError extends OAuthError {
  readonly code = "temporarily_unavailable";
  override readonly status = 503;
}
export class ServerError extends OAuthError {
  readonly code = "server_error";
  override readonly status = 500;
}

/** The error to answer with: OAuth errors as they are, anything else as a server_error without details. */
export function asOAuthError(error: unknown): OAuthError {
  return error instanceof OAuthError ? error : new ServerError("Internal server error");
}
