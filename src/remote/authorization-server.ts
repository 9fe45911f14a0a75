import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  type Router,
} from "express";
import { rateLimit } from "express-rate-limit";
import type { AuditLog } from "../audit/index.js";
import { ClientMetadataError, type ClientMetadataFetcher, isClientIdUrl } from "./client-id-metadata.js";
import {
  type RegistrationLimits,
  redirectUriMatches,
  registerClient,
  upsertMetadataDocumentClient,
} from "./client-registration.js";
import { redirectToClient, renderConsentPage, renderProblem } from "./consent-page.js";
import type { Logger } from "./logger.js";
import {
  asOAuthError,
  InvalidClientError,
  InvalidRequestError,
  type OAuthError,
  TemporarilyUnavailableError,
  UnsupportedGrantTypeError,
  UnsupportedResponseTypeError,
} from "./oauth-errors.js";
import type { OAuthProvider } from "./oauth-provider.js";
import type { RegisteredClient } from "./oauth-store.js";
import { SUPPORTED_SCOPES } from "./scopes.js";

// The OAuth 2.1 authorization server's HTTP face: metadata (RFC 8414), /authorize, /token (RFC 6749 with
// PKCE, RFC 8707 resources), /register (RFC 7591) and /revoke (RFC 7009). Written here because MCP SDK v2
// no longer ships an authorization-server router (docs/authorization-server.md explains the choice over
// oidc-provider); the parsing is deliberately strict and every error is one readable sentence.

export interface AuthorizationServerSettings {
  provider: OAuthProvider;
  /** Exactly the --server-url origin, without a trailing slash (RFC 8414 §2 and what clients compare). */
  issuer: string;
  registration: RegistrationLimits;
  /** Fetches Client ID Metadata Documents (client_id given as an https URL); null when they are turned off. */
  clientMetadata: ClientMetadataFetcher | null;
  secureCookies: boolean;
  logger: Logger;
  audit?: AuditLog;
  nowMs: () => number;
}

/** Rate limits per source address (req.ip: the X-Forwarded-For of a trusted proxy, else the peer). */
function perAddressLimit(windowMs: number, limit: number, what: string): RequestHandler {
  return rateLimit({
    windowMs,
    limit,
    standardHeaders: "draft-7",
    legacyHeaders: false,
    validate: { xForwardedForHeader: false },
    handler: (_req, res) => {
      res.setHeader("Cache-Control", "no-store");
      res.status(429).json({
        error: "too_many_requests",
        error_description: `Too many ${what} requests from this address; try again later.`,
      });
    },
  });
}

/** Request parameters as strings; a parameter given twice is an error (RFC 6749 §3.1), not an array. */
function stringParams(source: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof source !== "object" || source === null) return out;
  for (const [key, value] of Object.entries(source)) {
    if (typeof value === "string") out[key] = value;
    else throw new InvalidRequestError(`Parameter ${key} must be given exactly once`);
  }
  return out;
}

/** Token and revocation requests are forms (RFC 6749 §3.2); anything else is refused before it is read. */
function requireForm(req: Request): void {
  if (!req.is("application/x-www-form-urlencoded")) {
    throw new InvalidRequestError("The request body must be application/x-www-form-urlencoded");
  }
}

/** Browsers may call the token, registration and revocation endpoints from any origin; no cookies involved. */
const openCors: RequestHandler = (req, res, next) => {
  res.setHeader("Access-Control-Allow-Origin", "*");
  if (req.method === "OPTIONS") {
    res.setHeader("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    res.setHeader("Access-Control-Allow-Headers", "Authorization, Content-Type, Mcp-Protocol-Version");
    res.setHeader("Access-Control-Max-Age", "600");
    res.status(204).end();
    return;
  }
  next();
};

function sendError(res: Response, error: OAuthError): void {
  res.setHeader("Cache-Control", "no-store");
  if (error.status === 401) res.setHeader("WWW-Authenticate", 'Basic realm="mac-messages-mcp"');
  res.status(error.status).json(error.toJSON());
}

export function authorizationServerMetadata(issuer: string, options: { clientMetadataDocuments: boolean }) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    revocation_endpoint: `${issuer}/revoke`,
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    code_challenge_methods_supported: ["S256"],
    // Every client here is public: PKCE, not a secret, protects the code.
    token_endpoint_auth_methods_supported: ["none"],
    revocation_endpoint_auth_methods_supported: ["none"],
    scopes_supported: [...SUPPORTED_SCOPES],
    // RFC 9207: authorization responses name their issuer, so a client talking to several servers can
    // tell a mix-up attack.
    authorization_response_iss_parameter_supported: true,
    // A client may skip registration and use the https URL of its metadata document as its client_id.
    ...(options.clientMetadataDocuments ? { client_id_metadata_document_supported: true } : {}),
  };
}

export function authorizationServerRouter(settings: AuthorizationServerSettings): Router {
  const { provider, issuer, logger } = settings;
  const router = express.Router();
  const metadata = authorizationServerMetadata(issuer, {
    clientMetadataDocuments: settings.clientMetadata !== null,
  });

  /**
   * The client behind a client_id. An https URL names a Client ID Metadata Document, fetched (or taken from
   * the cache) and checked each time: at /authorize it may add the client (like a registration, within the
   * same limits); at /token the client must already be known and takes the document's current metadata.
   */
  const clientFor = async (
    clientId: string,
    at: "authorize" | "token",
  ): Promise<RegisteredClient | undefined> => {
    if (!isClientIdUrl(clientId)) return provider.getClient(clientId);
    if (!settings.clientMetadata) {
      throw new ClientMetadataError(
        "This server does not accept client_id URLs (Client ID Metadata Documents are turned off); the client has to register.",
      );
    }
    // Nothing is fetched for a client_id nobody authorized: /token must not be a way to make this server
    // fetch arbitrary URLs.
    if (at === "token" && !provider.getClient(clientId)) return undefined;
    const fetched = (await settings.clientMetadata.resolve(clientId)).info;
    const { client, added } = upsertMetadataDocumentClient(
      provider.store,
      fetched,
      settings.registration,
      Math.floor(settings.nowMs() / 1000),
    );
    if (added) {
      logger.info(
        `client ${clientId} identified by its metadata document (${client.client_name ?? "unnamed"})`,
      );
      settings.audit?.record({
        kind: "client_registered",
        clientId,
        clientName: client.client_name,
        redirectUris: client.redirect_uris,
      });
    }
    return client;
  };

  router.options(["/.well-known/oauth-authorization-server", "/token", "/register", "/revoke"], openCors);
  router.get("/.well-known/oauth-authorization-server", openCors, (_req, res) => {
    res.setHeader("Cache-Control", "public, max-age=3600");
    res.json(metadata);
  });

  // --- /authorize ------------------------------------------------------------------------------
  const authorize: RequestHandler = async (req, res) => {
    res.setHeader("Cache-Control", "no-store");
    let params: Record<string, string>;
    try {
      params = stringParams(req.method === "POST" ? req.body : req.query);
    } catch (error) {
      return renderProblem(res, 400, (error as Error).message);
    }
    // Until client and redirect URI are known to belong together, nothing is redirected anywhere.
    if (!params.client_id) return renderProblem(res, 400, "The request names no client_id.");
    let client: RegisteredClient | undefined;
    try {
      client = await clientFor(params.client_id, "authorize");
    } catch (caught) {
      // A document that cannot be used identifies nobody: there is no trusted redirect URI to send errors to.
      const error = asOAuthError(caught);
      if (error.status >= 500 && !(error instanceof TemporarilyUnavailableError)) {
        logger.error(`/authorize failed: ${(caught as Error).message}`);
      }
      return renderProblem(
        res,
        error instanceof TemporarilyUnavailableError ? 503 : 400,
        error instanceof ClientMetadataError
          ? `This client could not be identified. ${error.message}`
          : error.message,
      );
    }
    if (!client) {
      return renderProblem(
        res,
        400,
        "This client is not registered here (it may have been removed). Start again from your MCP client.",
      );
    }
    let redirectUri = params.redirect_uri;
    if (redirectUri !== undefined) {
      const requested = redirectUri;
      if (!client.redirect_uris.some((registered) => redirectUriMatches(requested, registered))) {
        return renderProblem(res, 400, "The redirect_uri is not one this client registered.");
      }
    } else if (client.redirect_uris.length === 1) {
      redirectUri = client.redirect_uris[0]!;
    } else {
      return renderProblem(res, 400, "redirect_uri is required: this client registered several.");
    }
    try {
      if (params.response_type !== "code") {
        throw new UnsupportedResponseTypeError("response_type must be code");
      }
      if (!params.code_challenge)
        throw new InvalidRequestError("code_challenge is required (PKCE with S256)");
      if (params.code_challenge_method !== "S256") {
        throw new InvalidRequestError("code_challenge_method must be S256");
      }
      const pending = provider.createPendingConsent(client, {
        redirectUri,
        redirectUriSent: params.redirect_uri !== undefined,
        codeChallenge: params.code_challenge,
        scope: params.scope,
        resource: params.resource,
        state: params.state,
      });
      renderConsentPage(res, pending, client, { secureCookies: settings.secureCookies });
    } catch (caught) {
      const error = asOAuthError(caught);
      if (error.status >= 500) logger.error(`/authorize failed: ${(caught as Error).message}`);
      // A client the owner never approved was registered by anyone at all: redirecting its errors would
      // make this server an open redirector to whatever URI the registrant chose. Show them instead.
      if (!provider.isApproved(client.client_id)) {
        return renderProblem(
          res,
          400,
          `The authorization request is not valid: ${error.message} (${error.code}).`,
        );
      }
      redirectToClient(res, redirectUri, {
        error: error.code,
        error_description: error.message,
        state: params.state,
        iss: issuer,
      });
    }
  };
  router.get("/authorize", perAddressLimit(15 * 60_000, 100, "authorization"), authorize);
  router.post(
    "/authorize",
    perAddressLimit(15 * 60_000, 100, "authorization"),
    express.urlencoded({ extended: false, limit: "16kb" }),
    authorize,
  );

  // --- /token ----------------------------------------------------------------------------------
  const clientFrom = async (
    req: Request,
    params: Record<string, string>,
    at: "token" | "revoke",
  ): Promise<RegisteredClient> => {
    let clientId = params.client_id;
    const header = req.headers.authorization;
    if (header?.startsWith("Basic ")) {
      // A public client may still send its id this way (with an empty secret); the secret is ignored.
      const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
      const fromHeader = decodeURIComponent(decoded.split(":")[0] ?? "");
      if (clientId !== undefined && clientId !== fromHeader) {
        throw new InvalidRequestError("client_id differs between the Authorization header and the body");
      }
      clientId = fromHeader;
    }
    if (!clientId) throw new InvalidClientError("client_id is required");
    let client: RegisteredClient | undefined;
    if (at === "revoke") {
      // Revoking needs no fresh document: a client whose site is down can still give its tokens back.
      client = provider.getClient(clientId);
    } else {
      try {
        client = await clientFor(clientId, "token");
      } catch (caught) {
        if (caught instanceof ClientMetadataError && caught.transient) {
          throw new TemporarilyUnavailableError(`${caught.message} Try again shortly.`);
        }
        throw caught;
      }
    }
    if (!client) throw new InvalidClientError("Unknown client_id; register the client again");
    return client;
  };

  router.post(
    "/token",
    openCors,
    perAddressLimit(15 * 60_000, 50, "token"),
    express.urlencoded({ extended: false, limit: "16kb" }),
    async (req, res) => {
      res.setHeader("Cache-Control", "no-store");
      try {
        requireForm(req);
        const params = stringParams(req.body);
        const client = await clientFrom(req, params, "token");
        const required = (name: string) => {
          const value = params[name];
          if (!value) throw new InvalidRequestError(`${name} is required`);
          return value;
        };
        switch (params.grant_type) {
          case "authorization_code":
            res.json(
              provider.exchangeAuthorizationCode(client, {
                code: required("code"),
                codeVerifier: required("code_verifier"),
                redirectUri: params.redirect_uri,
                resource: params.resource,
              }),
            );
            return;
          case "refresh_token":
            res.json(
              provider.exchangeRefreshToken(client, {
                refreshToken: required("refresh_token"),
                scope: params.scope,
                resource: params.resource,
              }),
            );
            return;
          case undefined:
          case "":
            throw new InvalidRequestError("grant_type is required");
          default:
            throw new UnsupportedGrantTypeError("Only authorization_code and refresh_token are supported");
        }
      } catch (caught) {
        const error = asOAuthError(caught);
        if (error.status === 500) logger.error(`/token failed: ${(caught as Error).message}`);
        sendError(res, error);
      }
    },
  );

  // --- /register -------------------------------------------------------------------------------
  router.post(
    "/register",
    openCors,
    perAddressLimit(60 * 60_000, 20, "registration"),
    express.json({ limit: "16kb" }),
    (req, res) => {
      res.setHeader("Cache-Control", "no-store");
      try {
        const client = registerClient(
          provider.store,
          req.body,
          settings.registration,
          Math.floor(settings.nowMs() / 1000),
        );
        logger.info(`registered client ${client.client_id} (${client.client_name ?? "unnamed"})`);
        settings.audit?.record({
          kind: "client_registered",
          clientId: client.client_id,
          clientName: client.client_name,
          redirectUris: client.redirect_uris,
        });
        res.status(201).json(client);
      } catch (caught) {
        const error = asOAuthError(caught);
        if (error.status === 500) logger.error(`/register failed: ${(caught as Error).message}`);
        sendError(res, error);
      }
    },
  );

  // --- /revoke ---------------------------------------------------------------------------------
  router.post(
    "/revoke",
    openCors,
    perAddressLimit(15 * 60_000, 50, "revocation"),
    express.urlencoded({ extended: false, limit: "16kb" }),
    async (req, res) => {
      res.setHeader("Cache-Control", "no-store");
      try {
        requireForm(req);
        const params = stringParams(req.body);
        const client = await clientFrom(req, params, "revoke");
        if (!params.token) throw new InvalidRequestError("token is required");
        provider.revokeToken(client, params.token);
        res.status(200).json({});
      } catch (caught) {
        const error = asOAuthError(caught);
        if (error.status === 500) logger.error(`/revoke failed: ${(caught as Error).message}`);
        sendError(res, error);
      }
    },
  );

  for (const path of ["/authorize", "/token", "/register", "/revoke"]) {
    router.all(path, (req, res) => {
      res.setHeader("Allow", path === "/authorize" ? "GET, POST" : "POST");
      res
        .status(405)
        .json({ error: "invalid_request", error_description: `${req.method} is not supported on ${path}` });
    });
  }

  // Body parser failures (too large, not JSON/form) as OAuth errors instead of Express' HTML page.
  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    const status = (error as { status?: number }).status;
    const type = (error as { type?: string }).type;
    if (status === undefined || status >= 500 || res.headersSent) return next(error);
    const description =
      type === "entity.too.large"
        ? "The request body is too large"
        : type === "entity.parse.failed"
          ? "The request body could not be parsed"
          : "The request could not be read";
    if (req.path === "/register") {
      res
        .status(status === 413 ? 413 : 400)
        .json({ error: "invalid_client_metadata", error_description: description });
    } else if (req.path === "/authorize") {
      renderProblem(res, status === 413 ? 413 : 400, description);
    } else {
      res
        .status(status === 413 ? 413 : 400)
        .json({ error: "invalid_request", error_description: description });
    }
  });
  return router;
}
