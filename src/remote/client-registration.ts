import { randomUUID } from "node:crypto";
import * as z from "zod";
import {
  InvalidClientMetadataError,
  InvalidRedirectUriError,
  TemporarilyUnavailableError,
} from "./oauth-errors.js";
import type { OAuthStore, RegisteredClient } from "./oauth-store.js";

// Dynamic client registration (RFC 7591) for public clients using PKCE. Registration is open to anyone who
// can reach the server, so everything a registrant sends is bounded, and only clients the owner approved
// hold one of the long-lived slots; the rest are forgotten after an hour.

/** Host names (as URL.hostname spells them) that mean this machine: plain http is allowed to them. */
export const LOOPBACK_HOSTNAMES: ReadonlySet<string> = new Set(["localhost", "127.0.0.1", "[::1]"]);

export const REGISTRATION_LIMITS = {
  bodyBytes: 16 * 1024,
  clientNameChars: 200,
  uriChars: 2000,
  redirectUris: 10,
  shortFieldChars: 200,
} as const;

/**
 * Schemes that must never receive an authorization code: they run code, read local files or are not
 * navigations at all. Everything else that is not http(s) is treated as a native app's private-use scheme
 * (RFC 8252 §7.1: `cursor:`, `vscode:`, `com.example.app:`).
 */
const FORBIDDEN_SCHEMES = new Set([
  "javascript:",
  "data:",
  "file:",
  "blob:",
  "about:",
  "vbscript:",
  "filesystem:",
  "view-source:",
  "ws:",
  "wss:",
  "ftp:",
  "mailto:",
  "tel:",
  "sms:",
]);

/** Why a redirect URI cannot be registered, or undefined when it can. */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length > REGISTRATION_LIMITS.uriChars)
    return `redirect URI is longer than ${REGISTRATION_LIMITS.uriChars} characters`;
  if (!URL.canParse(uri)) return `redirect URI is not a valid URL: ${uri}`;
  const url = new URL(uri);
  if (url.hash) return `redirect URI must not contain a fragment: ${uri}`;
  if (url.username || url.password) return `redirect URI must not contain credentials: ${uri}`;
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:") {
    return LOOPBACK_HOSTNAMES.has(url.hostname)
      ? undefined
      : `redirect URI must use https (plain http only to localhost/127.0.0.1/[::1]): ${uri}`;
  }
  if (FORBIDDEN_SCHEMES.has(url.protocol))
    return `redirect URI scheme ${url.protocol} is not allowed: ${uri}`;
  // A private-use scheme (RFC 8252 §7.1): RFC 3986 scheme letters, no spaces, and a host or an absolute
  // path to land on ("cursor://anysphere.cursor-mcp/oauth/callback", "com.example.app:/oauth2redirect").
  const landing = url.host !== "" || url.pathname.startsWith("/");
  if (!/^[a-z][a-z0-9+.-]*:$/.test(url.protocol) || /[\s\p{Cc}]/u.test(uri) || !landing) {
    return `redirect URI is not a usable app link: ${uri}`;
  }
  return undefined;
}

/**
 * Whether a redirect URI sent to /authorize or /token is one the client registered: exactly, except that a
 * loopback URI may use any port (RFC 8252 §7.3: native apps get an ephemeral port from the OS).
 */
export function redirectUriMatches(requested: string, registered: string): boolean {
  if (requested === registered) return true;
  if (!URL.canParse(requested) || !URL.canParse(registered)) return false;
  const req = new URL(requested);
  const reg = new URL(registered);
  if (!LOOPBACK_HOSTNAMES.has(req.hostname) || !LOOPBACK_HOSTNAMES.has(reg.hostname)) return false;
  return (
    req.protocol === reg.protocol &&
    req.hostname === reg.hostname &&
    req.pathname === reg.pathname &&
    req.search === reg.search &&
    !req.username &&
    !req.password
  );
}

/** Control and bidi-override characters make a name spoof log lines or the consent page; they become spaces. */
export function cleanDisplayName(name: string): string {
  return name
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
}

const optionalText = (max: number, what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .max(max, { error: `${what} is longer than ${max} characters` })
    .optional();

const MetadataSchema = z.object({
  redirect_uris: z
    .array(z.string({ error: "redirect_uris must be strings" }), {
      error: "redirect_uris must be a list of URIs",
    })
    .min(1, { error: "redirect_uris must name at least one URI" })
    .max(REGISTRATION_LIMITS.redirectUris, {
      error: `redirect_uris may name at most ${REGISTRATION_LIMITS.redirectUris} URIs`,
    }),
  client_name: optionalText(REGISTRATION_LIMITS.clientNameChars, "client_name"),
  client_uri: optionalText(REGISTRATION_LIMITS.uriChars, "client_uri"),
  software_id: optionalText(REGISTRATION_LIMITS.shortFieldChars, "software_id"),
  software_version: optionalText(REGISTRATION_LIMITS.shortFieldChars, "software_version"),
  scope: optionalText(REGISTRATION_LIMITS.shortFieldChars, "scope"),
  // Accepted for their type only: every client here is a public authorization-code client regardless.
  grant_types: z
    .array(z.string().max(100), { error: "grant_types must be a list of strings" })
    .max(10)
    .optional(),
  response_types: z
    .array(z.string().max(100), { error: "response_types must be a list of strings" })
    .max(10)
    .optional(),
  token_endpoint_auth_method: optionalText(100, "token_endpoint_auth_method"),
});

/** Checks registration metadata; the first problem becomes a one-sentence error a developer can act on. */
export function parseClientMetadata(body: unknown): z.infer<typeof MetadataSchema> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InvalidClientMetadataError("The registration request must be a JSON object");
  }
  const parsed = MetadataSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const message =
      issue.code === "invalid_type" && issue.input === undefined
        ? `${String(issue.path[0])} is required`
        : issue.message;
    throw issue.path[0] === "redirect_uris"
      ? new InvalidRedirectUriError(message)
      : new InvalidClientMetadataError(message);
  }
  for (const uri of parsed.data.redirect_uris) {
    const problem = redirectUriProblem(uri);
    if (problem) throw new InvalidRedirectUriError(problem);
  }
  return parsed.data;
}

export interface RegistrationLimits {
  /** Clients the owner approved: these keep their slot until revoked. */
  maxApprovedClients: number;
  /** Registrations waiting for approval; the oldest make way when full. */
  maxPendingClients: number;
  /** A registration not approved within this time is forgotten. */
  pendingClientTtlSeconds: number;
}

/**
 * The client record for validated metadata, registered or published as a metadata document alike. Every
 * client is a public client using PKCE (what native MCP clients are): no client secret is issued, so none has
 * to be stored or compared. RFC 7591 §3.2.1 lets the server adjust metadata.
 */
export function publicClient(
  metadata: z.infer<typeof MetadataSchema>,
  clientId: string,
  issuedAtSeconds: number,
): RegisteredClient {
  const name = metadata.client_name === undefined ? undefined : cleanDisplayName(metadata.client_name);
  return {
    client_id: clientId,
    client_id_issued_at: issuedAtSeconds,
    ...(name ? { client_name: name } : {}),
    ...(metadata.client_uri ? { client_uri: metadata.client_uri } : {}),
    ...(metadata.software_id ? { software_id: metadata.software_id } : {}),
    ...(metadata.software_version ? { software_version: metadata.software_version } : {}),
    ...(metadata.scope ? { scope: metadata.scope } : {}),
    redirect_uris: metadata.redirect_uris,
    token_endpoint_auth_method: "none",
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
  };
}

/**
 * Registers a public client. Never-approved registrations cannot crowd out the owner: they are pruned after
 * `pendingClientTtlSeconds` and, when too many pile up, the oldest are dropped; only approved clients count
 * against `maxApprovedClients`, and a full server says so with 503.
 */
export function registerClient(
  store: OAuthStore,
  body: unknown,
  limits: RegistrationLimits,
  nowSeconds: number,
): RegisteredClient {
  const client = publicClient(parseClientMetadata(body), randomUUID(), nowSeconds);
  store.transaction(() => insertPendingClient(store, client, limits, nowSeconds));
  return client;
}

/**
 * Adds a client nobody approved yet, within the limits: stale unapproved ones pruned, the oldest unapproved
 * evicted when too many wait, 503 when every approved slot is taken. Must run inside store.transaction().
 */
export function insertPendingClient(
  store: OAuthStore,
  client: RegisteredClient,
  limits: RegistrationLimits,
  nowSeconds: number,
): void {
  store.pruneUnapprovedClients(nowSeconds - limits.pendingClientTtlSeconds);
  if (store.countClients(true) >= limits.maxApprovedClients) {
    throw new TemporarilyUnavailableError(
      `This server already has ${limits.maxApprovedClients} approved clients; its owner must remove some (mac-messages-mcp auth list / auth revoke).`,
    );
  }
  const pending = store.countClients(false);
  if (pending >= limits.maxPendingClients)
    store.evictOldestUnapprovedClients(pending - limits.maxPendingClients + 1);
  store.insertClient(client);
}

/**
 * Keeps the stored copy of a metadata-document client (draft-ietf-oauth-client-id-metadata-document) in step
 * with its freshly fetched document: a new one is added like a registration (same limits); a known one keeps
 * its approval and issue time and takes the document's current name and redirect URIs. Returns the stored
 * client and whether it was new.
 */
export function upsertMetadataDocumentClient(
  store: OAuthStore,
  fetched: RegisteredClient,
  limits: RegistrationLimits,
  nowSeconds: number,
): { client: RegisteredClient; added: boolean } {
  return store.transaction(() => {
    const known = store.getClient(fetched.client_id);
    if (!known) {
      const client = { ...fetched, client_id_issued_at: nowSeconds };
      insertPendingClient(store, client, limits, nowSeconds);
      return { client, added: true };
    }
    const client = { ...fetched, client_id_issued_at: known.info.client_id_issued_at };
    if (JSON.stringify(client) !== JSON.stringify(known.info)) store.updateClientInfo(client);
    return { client, added: false };
  });
}
