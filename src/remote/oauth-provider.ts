import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID } from "node:crypto";
import type { AuditLog } from "../audit/index.js";
import type { Logger } from "./logger.js";
import {
  InvalidGrantError,
  InvalidRequestError,
  InvalidScopeError,
  InvalidTargetError,
  InvalidTokenError,
} from "./oauth-errors.js";
import { hashToken, type OAuthStore, type RegisteredClient } from "./oauth-store.js";
import { grantableScopes, SUPPORTED_SCOPES } from "./scopes.js";

// The grant logic of the authorization server: pending consent requests, single-use codes, token issue,
// refresh rotation and revocation. HTTP parsing lives in the endpoint files; persistence in oauth-store.ts.

export interface ProviderSettings {
  store: OAuthStore;
  /** Resource indicators (RFC 8707) that name this server; tokens are bound to one of them. */
  acceptedResources: readonly string[];
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** How long a rotated refresh token may be retried once (a response lost on the way, parallel sessions). */
  refreshReuseGraceSeconds: number;
  authorizationCodeTtlSeconds: number;
  consentTtlSeconds: number;
  /** Consent requests waiting for the owner, all clients together; the oldest make way when full. */
  maxPendingConsents: number;
  /** Consent requests waiting per client; the client's oldest make way. */
  maxPendingConsentsPerClient: number;
  nowMs: () => number;
  logger: Logger;
  audit?: AuditLog;
}

/** An authorization request waiting for the owner's decision on the consent page. */
export interface PendingConsent {
  id: string;
  csrfToken: string;
  clientId: string;
  redirectUri: string;
  /** Whether the client named redirect_uri at /authorize: then /token must repeat it (OAuth 2.1 §4.1.3). */
  redirectUriSent: boolean;
  codeChallenge: string;
  resource: string;
  requestedScopes: string[];
  state?: string;
  expiresAt: number; // ms
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  redirectUriSent: boolean;
  codeChallenge: string;
  resource: string;
  scopes: string[];
  expiresAt: number; // ms
}

export interface TokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_token: string;
  scope: string;
}

export interface VerifiedToken {
  clientId: string;
  scopes: string[];
  expiresAt: number;
  resource: string;
}

const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

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

/**
 * The successor of a rotated refresh token is kept encrypted under a key derived from the old token, so a
 * retry with the old token can be answered with the very same successor (instead of a second one), while
 * the state file alone still yields no usable token.
 */
function successorKey(oldRefreshToken: string): Buffer {
  return createHash("sha256").update(`mac-messages-mcp successor\0${oldRefreshToken}`).digest();
}

function sealSuccessor(oldRefreshToken: string, response: TokenResponse): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", successorKey(oldRefreshToken), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(response), "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function openSuccessor(oldRefreshToken: string, sealed: Buffer): TokenResponse | undefined {
  try {
    const decipher = createDecipheriv("aes-256-gcm", successorKey(oldRefreshToken), sealed.subarray(0, 12));
    decipher.setAuthTag(sealed.subarray(12, 28));
    const text = Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString("utf8");
    return JSON.parse(text) as TokenResponse;
  } catch {
    return undefined;
  }
}

export class OAuthProvider {
  private readonly pending = new Map<string, PendingConsent>();
  /** Keyed by SHA-256 of the code; codes live only in memory (≤ 60 s, so a restart just means retrying). */
  private readonly codes = new Map<string, IssuedCode>();
  /** Exchanged codes → the grant they produced, so a replayed code revokes that grant (RFC 6749 §4.1.2). */
  private readonly usedCodes = new Map<string, { familyId: string; forgetAt: number }>();

  constructor(readonly settings: ProviderSettings) {}

  get store(): OAuthStore {
    return this.settings.store;
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

  getClient(clientId: string): RegisteredClient | undefined {
    return this.store.getClient(clientId)?.info;
  }

  isApproved(clientId: string): boolean {
    return this.store.getClient(clientId)?.approvedAt !== undefined;
  }

  /** The resource a token is bound to: the named one if it is ours, else the server's base URL. */
  resolveResource(resource: string | undefined): string {
    if (resource === undefined) return this.settings.acceptedResources[0]!;
    const normalized = normalizeResource(resource);
    if (!normalized || !this.settings.acceptedResources.includes(normalized)) {
      throw new InvalidTargetError(
        `This server only issues tokens for ${this.settings.acceptedResources.join(", ")}`,
      );
    }
    return normalized;
  }

  /** Checks an authorization request and keeps it until the owner answers on the consent page. */
  createPendingConsent(
    client: RegisteredClient,
    params: {
      redirectUri: string;
      redirectUriSent: boolean;
      codeChallenge: string;
      scope?: string;
      resource?: string;
      state?: string;
    },
  ): PendingConsent {
    this.sweepMemory();
    if (!S256_CHALLENGE.test(params.codeChallenge)) {
      throw new InvalidRequestError("code_challenge must be an S256 challenge: 43 base64url characters");
    }
    const pending: PendingConsent = {
      id: randomToken(),
      csrfToken: randomToken(),
      clientId: client.client_id,
      redirectUri: params.redirectUri,
      redirectUriSent: params.redirectUriSent,
      codeChallenge: params.codeChallenge,
      resource: this.resolveResource(params.resource),
      requestedScopes: grantableScopes(params.scope),
      state: params.state,
      expiresAt: this.settings.nowMs() + this.settings.consentTtlSeconds * 1000,
    };
    // Bounded: a flood of /authorize requests pushes out its own oldest entries (Map keeps insertion order),
    // and per client, so one client's flood cannot push out another client's request.
    const ofClient = [...this.pending.values()].filter((p) => p.clientId === client.client_id);
    for (const old of ofClient.slice(
      0,
      Math.max(0, ofClient.length - this.settings.maxPendingConsentsPerClient + 1),
    ))
      this.pending.delete(old.id);
    while (this.pending.size >= this.settings.maxPendingConsents) {
      this.pending.delete(this.pending.keys().next().value!);
    }
    this.pending.set(pending.id, pending);
    return pending;
  }

  get pendingConsentCount(): number {
    return this.pending.size;
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
      redirectUriSent: pending.redirectUriSent,
      codeChallenge: pending.codeChallenge,
      resource: pending.resource,
      scopes: grantedScopes,
      expiresAt: this.settings.nowMs() + this.settings.authorizationCodeTtlSeconds * 1000,
    });
    return code;
  }

  /** grant_type=authorization_code. The code is spent by the first attempt, right or wrong. */
  exchangeAuthorizationCode(
    client: RegisteredClient,
    params: { code: string; codeVerifier: string; redirectUri?: string; resource?: string },
  ): TokenResponse {
    this.sweepMemory();
    const hash = hashToken(params.code);
    const issued = this.codes.get(hash);
    if (!issued || issued.clientId !== client.client_id) {
      this.revokeReplayedCode(client, hash);
      throw new InvalidGrantError("Authorization code is invalid, expired or already used");
    }
    this.codes.delete(hash);
    if (!VERIFIER.test(params.codeVerifier)) {
      throw new InvalidGrantError("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~");
    }
    const challenge = createHash("sha256").update(params.codeVerifier).digest("base64url");
    if (challenge !== issued.codeChallenge)
      throw new InvalidGrantError("code_verifier does not match the challenge");
    if (params.redirectUri === undefined && issued.redirectUriSent) {
      throw new InvalidRequestError("redirect_uri is required: it was sent with the authorization request");
    }
    if (params.redirectUri !== undefined && params.redirectUri !== issued.redirectUri) {
      throw new InvalidGrantError("redirect_uri does not match the one used in the authorization request");
    }
    if (params.resource !== undefined && this.resolveResource(params.resource) !== issued.resource) {
      throw new InvalidTargetError("resource does not match the one used in the authorization request");
    }
    const familyId = randomUUID();
    const now = this.nowSeconds();
    const tokens = this.store.transaction(() => {
      this.store.markApproved(client.client_id, now);
      this.store.pruneExpiredTokens(now);
      return this.issueTokens(client.client_id, issued.scopes, issued.resource, familyId);
    });
    this.usedCodes.set(hash, {
      familyId,
      forgetAt: this.settings.nowMs() + 10 * this.settings.authorizationCodeTtlSeconds * 1000,
    });
    this.settings.audit?.record({
      kind: "token_granted",
      clientId: client.client_id,
      scopes: issued.scopes,
      resource: issued.resource,
    });
    return tokens;
  }

  private revokeReplayedCode(client: RegisteredClient, hash: string): void {
    const used = this.usedCodes.get(hash);
    if (!used) return;
    this.usedCodes.delete(hash);
    this.store.transaction(() => this.store.revokeFamily(used.familyId));
    this.settings.logger.warn(
      `authorization code replayed by client ${client.client_id}; its tokens are revoked`,
    );
    this.settings.audit?.record({ kind: "token_revoked", clientId: client.client_id, reason: "code_replay" });
  }

  /** Inside a store transaction. */
  private issueTokens(clientId: string, scopes: string[], resource: string, familyId: string): TokenResponse {
    const now = this.nowSeconds();
    const accessToken = randomToken();
    const refreshToken = randomToken();
    const base = { clientId, scopes, resource, familyId, issuedAt: now };
    this.store.insertToken("access", hashToken(accessToken), {
      ...base,
      expiresAt: now + this.settings.accessTokenTtlSeconds,
    });
    this.store.insertToken("refresh", hashToken(refreshToken), {
      ...base,
      expiresAt: now + this.settings.refreshTokenTtlSeconds,
    });
    return {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: this.settings.accessTokenTtlSeconds,
      refresh_token: refreshToken,
      scope: scopes.join(" "),
    };
  }

  /**
   * grant_type=refresh_token, with rotation. The new tokens and the old token's "rotated" mark are committed
   * in one transaction before anything is answered: if the disk is full nothing changes and the client can
   * retry with the same token. A retry within the grace period gets the same successor once; any other use
   * of a rotated token ends the grant (RFC 9700 §4.14).
   */
  exchangeRefreshToken(
    client: RegisteredClient,
    params: { refreshToken: string; scope?: string; resource?: string },
  ): TokenResponse {
    const now = this.nowSeconds();
    const hash = hashToken(params.refreshToken);
    let reuseDetected = false;
    let refreshedFor: { scopes: string[]; resource: string } | undefined;
    const outcome = this.store.transaction((): TokenResponse | Error => {
      const record = this.store.getToken("refresh", hash);
      if (!record || record.clientId !== client.client_id || record.expiresAt <= now) {
        return new InvalidGrantError("Refresh token is invalid, expired or revoked");
      }
      if (record.rotatedAt !== undefined) {
        const withinGrace = now - record.rotatedAt <= this.settings.refreshReuseGraceSeconds;
        const successor = record.successor && openSuccessor(params.refreshToken, record.successor);
        if (withinGrace && record.reuses === 0 && successor) {
          this.store.countReuse(hash);
          return successor;
        }
        this.store.revokeFamily(record.familyId);
        reuseDetected = true;
        return new InvalidGrantError("Refresh token was already used; the grant is revoked");
      }
      // Unknown names are ignored as at /authorize; a known scope beyond the original grant is refused (RFC 6749 §6).
      const named = (params.scope ?? "").split(" ").filter((s) => SUPPORTED_SCOPES.includes(s));
      if (named.some((s) => !record.scopes.includes(s))) {
        return new InvalidScopeError("The requested scope exceeds the original grant");
      }
      const granted = named.length === 0 ? record.scopes : record.scopes.filter((s) => named.includes(s));
      let resource: string;
      try {
        resource = params.resource === undefined ? record.resource : this.resolveResource(params.resource);
      } catch (error) {
        return error as Error;
      }
      if (resource !== record.resource)
        return new InvalidTargetError("resource differs from the original grant");
      this.store.pruneExpiredTokens(now);
      const tokens = this.issueTokens(client.client_id, granted, resource, record.familyId);
      this.store.markRotated(hash, now, sealSuccessor(params.refreshToken, tokens));
      refreshedFor = { scopes: granted, resource };
      return tokens;
    });
    // Recorded after the transaction committed, so the log never claims what did not persist.
    if (reuseDetected) {
      this.settings.logger.warn(`rotated refresh token reused by client ${client.client_id}; grant revoked`);
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

  /** The bearer check of every MCP request: one indexed lookup. */
  verifyAccessToken(token: string): VerifiedToken {
    const record = this.store.getToken("access", hashToken(token));
    if (!record) throw new InvalidTokenError("Invalid or revoked access token");
    if (record.expiresAt <= this.nowSeconds()) throw new InvalidTokenError("Access token has expired");
    // Audience check: a token minted for another server URL (e.g. before --server-url changed) is refused.
    if (!this.settings.acceptedResources.includes(record.resource)) {
      throw new InvalidTokenError("Access token was not issued for this server");
    }
    return {
      clientId: record.clientId,
      scopes: record.scopes,
      expiresAt: record.expiresAt,
      resource: record.resource,
    };
  }

  /** RFC 7009: unknown tokens are not an error, and revoking a refresh token ends its whole grant. */
  revokeToken(client: RegisteredClient, token: string): void {
    const hash = hashToken(token);
    const revoked = this.store.transaction((): string | undefined => {
      const refresh = this.store.getToken("refresh", hash);
      if (refresh?.clientId === client.client_id) {
        this.store.revokeFamily(refresh.familyId);
        return "refresh_token";
      }
      if (this.store.getToken("access", hash)?.clientId === client.client_id) {
        this.store.deleteToken(hash);
        return "access_token";
      }
      return undefined;
    });
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
