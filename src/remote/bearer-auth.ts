import type { Request, RequestHandler, Response } from "express";
import type { Logger } from "./logger.js";
import { OAuthError } from "./oauth-errors.js";
import type { OAuthProvider } from "./oauth-provider.js";
import { SCOPE_READ, SUPPORTED_SCOPES } from "./scopes.js";

// Bearer-token checks for the MCP endpoints (RFC 6750, with the RFC 9728 resource_metadata pointer the MCP
// authorization spec requires). Hand-written rather than the SDK's middleware: the challenges differ per
// endpoint and per case (no error code when no credentials were sent, insufficient_scope naming what is
// needed), and the token lookup is ours.

/** Who is calling, attached to the request once the token checked out. */
export interface CallerAuth {
  token: string;
  clientId: string;
  scopes: string[];
  /** Seconds since the epoch. */
  expiresAt: number;
}

export function callerAuth(req: Request): CallerAuth | undefined {
  return (req as Request & { auth?: CallerAuth }).auth;
}

function challenge(res: Response, resourceMetadataUrl: string, fields: Record<string, string>): void {
  const extra = Object.entries(fields)
    .map(([key, value]) => `, ${key}="${value.replace(/["\\]/g, "")}"`)
    .join("");
  res.setHeader("WWW-Authenticate", `Bearer resource_metadata="${resourceMetadataUrl}"${extra}`);
}

export function refuseScope(res: Response, resourceMetadataUrl: string, description: string): void {
  challenge(res, resourceMetadataUrl, {
    error: "insufficient_scope",
    scope: SUPPORTED_SCOPES.join(" "),
    error_description: description,
  });
  res.status(403).json({ error: "insufficient_scope", error_description: description });
}

/** Requires a valid access token for this server that includes messages:read. */
export function requireBearer(
  provider: OAuthProvider,
  resourceMetadataUrl: string,
  logger: Logger,
): RequestHandler {
  return (req, res, next) => {
    const header = req.headers.authorization;
    if (!header) {
      // No credentials at all: RFC 6750 §3.1 says to answer without an error code, just where to start.
      challenge(res, resourceMetadataUrl, {});
      res.status(401).json({ error_description: "Authorization required: this server uses OAuth 2.1" });
      return;
    }
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
    if (!match) {
      const description = "The Authorization header must be: Bearer <access token>";
      challenge(res, resourceMetadataUrl, { error: "invalid_request", error_description: description });
      res.status(400).json({ error: "invalid_request", error_description: description });
      return;
    }
    const token = match[1]!;
    try {
      const verified = provider.verifyAccessToken(token);
      if (!verified.scopes.includes(SCOPE_READ)) {
        return refuseScope(res, resourceMetadataUrl, `Token lacks ${SCOPE_READ}`);
      }
      (req as Request & { auth?: CallerAuth }).auth = { token, ...verified };
      next();
    } catch (caught) {
      if (!(caught instanceof OAuthError) || caught.status >= 500) {
        logger.error(`bearer check failed: ${(caught as Error).message}`);
        res.status(503).json({ error: "temporarily_unavailable", error_description: "Try again shortly" });
        return;
      }
      challenge(res, resourceMetadataUrl, { error: "invalid_token", error_description: caught.message });
      res.status(401).json(caught.toJSON());
    }
  };
}
