import { randomBytes, randomUUID } from "node:crypto";
import type { OAuthRegisteredClientsStore } from "@modelcontextprotocol/sdk/server/auth/clients.js";
import {
  CustomOAuthError,
  InvalidGrantError,
  InvalidRequestError,
  InvalidScopeError,
  InvalidTargetError,
  InvalidTokenError,
  TemporarilyUnavailableError,
} from "@modelcontextprotocol/sdk/server/auth/errors.js";
import type {
  AuthorizationParams,
  OAuthServerProvider,
} from "@modelcontextprotocol/sdk/server/auth/provider.js";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import type {
  OAuthClientInformationFull,
  OAuthTokenRevocationRequest,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import type { Response } from "express";
import type { AuditLog } from "../audit/index.js";
import type { Logger } from "./logger.js";
import { SCOPE_READ, SUPPORTED_SCOPES } from "./scopes.js";
import { hashToken, type OAuthStateData, OAuthStateStore } from "./stateStore.js";

export interface ProviderSettings {
  store: OAuthStateStore;
  /** Resource indicators (RFC 8707) that name this server; tokens are bound to one of them. */
  acceptedResources: readonly string[];
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** How long a rotated refresh token still works, for parallel sessions sharing one token. */
  refreshReuseGraceSeconds: number;
  authorizationCodeTtlSeconds: number;
  consentTtlSeconds: number;
  maxClients: number;
  nowMs: () => number;
  logger: Logger;
  /** Where grants, refreshes, revocations and registrations are recorded. */
  audit?: AuditLog;
  /** Renders the consent page for a pending request (owner authentication happens there). */
  renderConsent: (res: Response, pending: PendingConsent, client: OAuthClientInformationFull) => void;
}

/** An authorization request waiting for the owner's decision on the consent page. */
export interface PendingConsent {
  id: string;
  csrfToken: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  resource: string;
  requestedScopes: string[];
  state?: string;
  expiresAt: number; // ms
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  resource: string;
  scopes: string[];
  expiresAt: number; // ms
  challengeLookedUp: boolean;
}

/** Host names (as URL.hostname spells them) that mean this machine: plain http is allowed to them. */
export const LOOPBACK_HOSTNAMES: ReadonlySet<string> = new Set(["localhost", "127.0.0.1", "[::1]"]);
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const UNAPPROVED_CLIENT_MAX_AGE_SECONDS = 24 * 60 * 60;

export function randomToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Canonical form for comparing resource indicators: no fragment, no trailing slash. */
export function normalizeResource(value: string): string | undefined {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  url.hash = "";
  return url.href.replace(/\/$/, "");
}

/** Registration rule: https anywhere, plain http only to this machine (RFC 8252 native-app loopback). */
export function redirectUriProblem(uri: string): string | undefined {
  if (!URL.canParse(uri)) return `redirect URI is not a valid URL: ${uri}`;
  const url = new URL(uri);
  if (url.hash) return `redirect URI must not contain a fragment: ${uri}`;
  if (url.username || url.password) return `redirect URI must not contain credentials: ${uri}`;
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && LOOPBACK_HOSTNAMES.has(url.hostname)) return undefined;
  return `redirect URI must use https (or http to localhost/127.0.0.1/[::1]): ${uri}`;
}

function parseRequestedScopes(scopes: readonly string[] | undefined): string[] {
  const requested = (scopes ?? []).filter((s) => s.length > 0);
  const unknown = requested.filter((s) => !SUPPORTED_SCOPES.includes(s));
  if (unknown.length > 0) {
    throw new InvalidScopeError(
      `Unknown scope(s): ${unknown.join(", ")}. Supported: ${SUPPORTED_SCOPES.join(" ")}`,
    );
  }
  // Nothing works without read access, so it is always part of a grant.
  return requested.length === 0 ? [...SUPPORTED_SCOPES] : [...new Set([SCOPE_READ, ...requested])];
}

/** OAuth 2.1 authorization server for the single owner of this Mac, plugged into the SDK's auth router. */
export class MessagesOAuthProvider implements OAuthServerProvider {
  private readonly pending = new Map<string, PendingConsent>();
  /** Keyed by SHA-256 of the code; codes live only in memory (≤ 60 s, so a restart just means retrying). */
  private readonly codes = new Map<string, IssuedCode>();
  /** Exchanged codes → the grant they produced, so a replayed code revokes that grant (RFC 6749 §4.1.2). */
  private readonly usedCodes = new Map<string, { familyId: string; forgetAt: number }>();
  readonly clientsStore: OAuthRegisteredClientsStore;

  constructor(private readonly settings: ProviderSettings) {
    const { store } = settings;
    this.clientsStore = {
      getClient: (clientId) => store.getClient(clientId)?.info,
      registerClient: (client) => this.registerClient(client as OAuthClientInformationFull),
    };
  }

  private nowSeconds(): number {
    return Math.floor(this.settings.nowMs() / 1000);
  }

  private sweepMemory(): void {
    const now = this.settings.nowMs();
    for (const [id, p] of this.pending) if (p.expiresAt <= now) this.pending.delete(id);
    for (const [hash, c] of this.codes) if (c.expiresAt <= now) this.codes.delete(hash);
    for (const [hash, u] of this.usedCodes) if (u.forgetAt <= now) this.usedCodes.delete(hash);
  }

  private registerClient(client: OAuthClientInformationFull): OAuthClientInformationFull {
    if (client.redirect_uris.length === 0)
      throw new CustomOAuthError("invalid_redirect_uri", "No redirect_uris given");
    for (const uri of client.redirect_uris) {
      const problem = redirectUriProblem(uri);
      if (problem) throw new CustomOAuthError("invalid_redirect_uri", problem);
    }
    // Every client is registered as a public client using PKCE (what native MCP clients are): no client
    // secret is issued, so none has to be stored or compared. RFC 7591 lets the server adjust metadata.
    const { client_secret: _secret, client_secret_expires_at: _expires, ...rest } = client;
    const registered: OAuthClientInformationFull = {
      ...rest,
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
    };
    const now = this.nowSeconds();
    this.settings.store.update((data) => {
      // Registration is open to anyone who can reach the server: forget clients the owner never approved.
      for (const [id, record] of Object.entries(data.clients)) {
        const age = now - (record.info.client_id_issued_at ?? now);
        if (record.approvedAt === undefined && age > UNAPPROVED_CLIENT_MAX_AGE_SECONDS)
          delete data.clients[id];
      }
      if (Object.keys(data.clients).length >= this.settings.maxClients) {
        throw new TemporarilyUnavailableError(
          "Too many registered clients; run `mac-messages-mcp auth list`.",
        );
      }
      data.clients[registered.client_id] = { info: registered };
    });
    this.settings.logger.info(
      `registered client ${registered.client_id} (${registered.client_name ?? "unnamed"})`,
    );
    this.settings.audit?.record({
      kind: "client_registered",
      clientId: registered.client_id,
      clientName: registered.client_name,
      redirectUris: registered.redirect_uris,
    });
    return registered;
  }

  private resolveResource(resource: URL | string | undefined): string {
    if (resource === undefined) return this.settings.acceptedResources[0]!;
    const normalized = normalizeResource(String(resource));
    if (!normalized || !this.settings.acceptedResources.includes(normalized)) {
      throw new InvalidTargetError(
        `This server only issues tokens for ${this.settings.acceptedResources.join(", ")}`,
      );
    }
    return normalized;
  }

  async authorize(
    client: OAuthClientInformationFull,
    params: AuthorizationParams,
    res: Response,
  ): Promise<void> {
    this.sweepMemory();
    // The SDK accepts any string here; an empty or malformed S256 challenge could never be met, so the
    // owner would approve a request that cannot succeed (RFC 7636 §4.2: 43 base64url characters).
    if (!S256_CHALLENGE.test(params.codeChallenge)) {
      throw new InvalidRequestError("code_challenge must be an S256 challenge: 43 base64url characters");
    }
    // The SDK lets a loopback redirect differ in port, and so also in user info: "evil@localhost" is refused.
    const redirect = new URL(params.redirectUri);
    if (redirect.username || redirect.password) {
      throw new InvalidRequestError("redirect_uri must not contain user name or password");
    }
    const pending: PendingConsent = {
      id: randomToken(),
      csrfToken: randomToken(),
      clientId: client.client_id,
      redirectUri: params.redirectUri,
      codeChallenge: params.codeChallenge,
      resource: this.resolveResource(params.resource),
      requestedScopes: parseRequestedScopes(params.scopes),
      state: params.state,
      expiresAt: this.settings.nowMs() + this.settings.consentTtlSeconds * 1000,
    };
    this.pending.set(pending.id, pending);
    this.settings.renderConsent(res, pending, client);
  }

  getPendingConsent(id: string): PendingConsent | undefined {
    this.sweepMemory();
    return this.pending.get(id);
  }

  /** Owner denied, or the request is finished: it cannot be submitted again. */
  dropPendingConsent(id: string): void {
    this.pending.delete(id);
  }

  /** Owner approved: issues a single-use code bound to client, redirect URI, PKCE challenge and resource. */
  approve(pending: PendingConsent, grantedScopes: string[]): string {
    this.pending.delete(pending.id);
    const code = randomToken();
    this.codes.set(hashToken(code), {
      clientId: pending.clientId,
      redirectUri: pending.redirectUri,
      codeChallenge: pending.codeChallenge,
      resource: pending.resource,
      scopes: grantedScopes,
      expiresAt: this.settings.nowMs() + this.settings.authorizationCodeTtlSeconds * 1000,
      challengeLookedUp: false,
    });
    return code;
  }

  private liveCode(client: OAuthClientInformationFull, code: string): IssuedCode {
    this.sweepMemory();
    const hash = hashToken(code);
    const issued = this.codes.get(hash);
    if (!issued || issued.clientId !== client.client_id) {
      const used = this.usedCodes.get(hash);
      if (used) {
        this.usedCodes.delete(hash);
        this.settings.store.update((data) => OAuthStateStore.revokeFamily(data, used.familyId));
        this.settings.logger.warn(
          `authorization code replayed by client ${client.client_id}; its tokens are revoked`,
        );
        this.settings.audit?.record({
          kind: "token_revoked",
          clientId: client.client_id,
          reason: "code_replay",
        });
      }
      throw new InvalidGrantError("Authorization code is invalid, expired or already used");
    }
    return issued;
  }

  async challengeForAuthorizationCode(client: OAuthClientInformationFull, code: string): Promise<string> {
    const issued = this.liveCode(client, code);
    // The SDK verifies PKCE right after this call; a second lookup means an earlier verifier was wrong,
    // so the code gets exactly one try.
    if (issued.challengeLookedUp) {
      this.codes.delete(hashToken(code));
      throw new InvalidGrantError("Authorization code is invalid, expired or already used");
    }
    issued.challengeLookedUp = true;
    return issued.codeChallenge;
  }

  async exchangeAuthorizationCode(
    client: OAuthClientInformationFull,
    code: string,
    _codeVerifier?: string,
    redirectUri?: string,
    resource?: URL,
  ): Promise<OAuthTokens> {
    const issued = this.liveCode(client, code);
    const hash = hashToken(code);
    this.codes.delete(hash);
    if (redirectUri !== undefined && redirectUri !== issued.redirectUri) {
      throw new InvalidGrantError("redirect_uri does not match the one used in the authorization request");
    }
    if (resource !== undefined && this.resolveResource(resource) !== issued.resource) {
      throw new InvalidTargetError("resource does not match the one used in the authorization request");
    }
    const familyId = randomUUID();
    this.usedCodes.set(hash, {
      familyId,
      forgetAt: this.settings.nowMs() + 10 * this.settings.authorizationCodeTtlSeconds * 1000,
    });
    const tokens = this.settings.store.update((data) => {
      const record = data.clients[client.client_id];
      if (record) record.approvedAt = this.nowSeconds();
      return this.issueTokens(data, client.client_id, issued.scopes, issued.resource, familyId);
    });
    this.settings.audit?.record({
      kind: "token_granted",
      clientId: client.client_id,
      scopes: issued.scopes,
      resource: issued.resource,
    });
    return tokens;
  }

  private issueTokens(
    data: OAuthStateData,
    clientId: string,
    scopes: string[],
    resource: string,
    familyId: string,
  ): OAuthTokens {
    const now = this.nowSeconds();
    const accessToken = randomToken();
    const refreshToken = randomToken();
    const base = { clientId, scopes, resource, familyId, issuedAt: now };
    data.accessTokens[hashToken(accessToken)] = {
      ...base,
      expiresAt: now + this.settings.accessTokenTtlSeconds,
    };
    data.refreshTokens[hashToken(refreshToken)] = {
      ...base,
      expiresAt: now + this.settings.refreshTokenTtlSeconds,
    };
    return {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: this.settings.accessTokenTtlSeconds,
      refresh_token: refreshToken,
      scope: scopes.join(" "),
    };
  }

  async exchangeRefreshToken(
    client: OAuthClientInformationFull,
    refreshToken: string,
    scopes?: string[],
    resource?: URL,
  ): Promise<OAuthTokens> {
    const now = this.nowSeconds();
    const hash = hashToken(refreshToken);
    let refreshedFor: { scopes: string[]; resource: string } | undefined;
    let reuseDetected = false;
    const outcome = this.settings.store.update((data): OAuthTokens | Error => {
      const record = data.refreshTokens[hash];
      if (!record || record.clientId !== client.client_id || record.expiresAt <= now) {
        return new InvalidGrantError("Refresh token is invalid, expired or revoked");
      }
      if (record.rotatedAt !== undefined && now - record.rotatedAt > this.settings.refreshReuseGraceSeconds) {
        // A refresh token used again long after rotation suggests it leaked: end the whole grant (RFC 9700 §4.14).
        OAuthStateStore.revokeFamily(data, record.familyId);
        reuseDetected = true;
        this.settings.logger.warn(
          `rotated refresh token reused by client ${client.client_id}; grant revoked`,
        );
        return new InvalidGrantError("Refresh token was already used; authorize again");
      }
      let granted = record.scopes;
      if (scopes !== undefined && scopes.length > 0) {
        const extra = scopes.filter((s) => !record.scopes.includes(s));
        if (extra.length > 0) return new InvalidScopeError(`Scope(s) not granted: ${extra.join(", ")}`);
        granted = [...new Set([SCOPE_READ, ...scopes])];
      }
      let boundResource = record.resource;
      try {
        if (resource !== undefined) boundResource = this.resolveResource(resource);
      } catch (error) {
        return error as Error;
      }
      record.rotatedAt ??= now;
      refreshedFor = { scopes: granted, resource: boundResource };
      return this.issueTokens(data, client.client_id, granted, boundResource, record.familyId);
    });
    // Recorded after the state file is written, so the log never claims what did not persist.
    if (reuseDetected) {
      this.settings.audit?.record({
        kind: "token_revoked",
        clientId: client.client_id,
        reason: "refresh_reuse",
      });
    }
    if (outcome instanceof Error) throw outcome;
    if (refreshedFor)
      this.settings.audit?.record({ kind: "token_refreshed", clientId: client.client_id, ...refreshedFor });
    return outcome;
  }

  async verifyAccessToken(token: string): Promise<AuthInfo> {
    // One read of the state (and so one freshness check of the file) per request.
    const state = this.settings.store.read();
    const record = state.accessTokens[hashToken(token)];
    if (!record) throw new InvalidTokenError("Invalid or revoked access token");
    if (record.expiresAt <= this.nowSeconds()) throw new InvalidTokenError("Access token has expired");
    // Audience check: a token minted for another server URL (e.g. before --server-url changed) is refused.
    if (!this.settings.acceptedResources.includes(record.resource)) {
      throw new InvalidTokenError("Access token was not issued for this server");
    }
    if (!state.clients[record.clientId]) throw new InvalidTokenError("Client has been revoked");
    return {
      token,
      clientId: record.clientId,
      scopes: record.scopes,
      expiresAt: record.expiresAt,
      resource: new URL(record.resource),
    };
  }

  async revokeToken(client: OAuthClientInformationFull, request: OAuthTokenRevocationRequest): Promise<void> {
    const hash = hashToken(request.token);
    const revoked = this.settings.store.update((data): string | undefined => {
      const refresh = data.refreshTokens[hash];
      if (refresh?.clientId === client.client_id) {
        // Revoking a refresh token ends the grant, including its access tokens (RFC 7009 §2.1).
        OAuthStateStore.revokeFamily(data, refresh.familyId);
        return "refresh_token";
      }
      if (data.accessTokens[hash]?.clientId === client.client_id) {
        delete data.accessTokens[hash];
        return "access_token";
      }
      return undefined;
    });
    // Unknown tokens are answered 200 too (RFC 7009 §2.2) but nothing was revoked, so nothing is recorded.
    if (revoked) {
      this.settings.audit?.record({
        kind: "token_revoked",
        clientId: client.client_id,
        reason: "revocation_request",
        tokenType: revoked,
      });
    }
  }
}
