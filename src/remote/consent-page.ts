import { timingSafeEqual } from "node:crypto";
import express, { type Request, type Response, type Router } from "express";
import { rateLimit } from "express-rate-limit";
import type { AuditLog } from "../audit/index.js";
import { isClientIdUrl } from "./client-id-metadata.js";
import type { ConsentGuard } from "./consent-guard.js";
import type { Logger } from "./logger.js";
import type { OAuthProvider, PendingConsent } from "./oauth-provider.js";
import type { RegisteredClient } from "./oauth-store.js";
import { SCOPE_READ, SCOPE_SEND } from "./scopes.js";

const MAX_PASSWORD_LENGTH = 1024;
const CSRF_COOKIE_PREFIX = "mmcp_consent_";

export interface ConsentSettings {
  provider: OAuthProvider;
  /** Named in every redirect back to the client (RFC 9207). */
  issuer: string;
  verifyOwnerPassword: (candidate: string) => Promise<boolean>;
  secureCookies: boolean;
  nowMs: () => number;
  logger: Logger;
  audit?: AuditLog;
  /** Counts wrong owner passwords per source address and overall (see consent-guard.ts). */
  guard: ConsentGuard;
  /** POST /consent requests one address may make per minute, whatever their outcome. */
  postsPerMinute?: number;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function cookieName(pending: PendingConsent): string {
  return CSRF_COOKIE_PREFIX + pending.id.slice(0, 16);
}

function readCookie(req: Request, name: string): string | undefined {
  // Only one cookie of our own is ever read, so a parser dependency is not worth it.
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return rest.join("=");
  }
  return undefined;
}

function setPageSecurityHeaders(res: Response, formTargets: string): void {
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  // form-action must include the client's redirect origin: browsers apply it to the redirect after submit.
  res.setHeader(
    "Content-Security-Policy",
    `default-src 'none'; style-src 'unsafe-inline'; form-action ${formTargets}; frame-ancestors 'none'; base-uri 'none'`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}
.card{border:1px solid #d2d2d7;border-radius:12px;padding:1.5rem}
h1{font-size:1.4rem}code{background:#f5f5f7;padding:0 .25rem;border-radius:4px}
label{display:block;margin:.5rem 0}input[type=password]{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
.buttons{display:flex;flex-direction:row-reverse;gap:1rem;margin-top:1rem}button{flex:1;padding:.6rem;font-size:1rem;border-radius:8px;border:1px solid #888;cursor:pointer}
button.approve{background:#0071e3;color:#fff;border-color:#0071e3}.error{color:#b00020;font-weight:600}.muted{color:#6e6e73;font-size:.9rem}
</style></head><body><div class="card">${body}</div></body></html>`;
}

export function renderConsentPage(
  res: Response,
  pending: PendingConsent,
  client: RegisteredClient,
  options: { secureCookies: boolean; error?: string; status?: number },
): void {
  const redirect = describeRedirect(pending.redirectUri);
  const clientName = client.client_name?.trim() || "An unnamed application";
  const wantsSend = pending.requestedScopes.includes(SCOPE_SEND);
  const cookie = [
    `${cookieName(pending)}=${pending.csrfToken}`,
    "Path=/consent",
    "HttpOnly",
    "SameSite=Strict",
    "Max-Age=900",
    ...(options.secureCookies ? ["Secure"] : []),
  ].join("; ");
  res.setHeader("Set-Cookie", cookie);
  setPageSecurityHeaders(res, `'self' ${redirect.formTarget}`);
  const scopeChoice = wantsSend
    ? `<fieldset><legend>Access to grant</legend>
<label><input type="radio" name="access" value="read_send" checked> Read messages <strong>and send messages</strong> as you</label>
<label><input type="radio" name="access" value="read"> Read messages only</label></fieldset>`
    : `<p>Access requested: <strong>read your messages</strong> (it will not be able to send).</p><input type="hidden" name="access" value="read">`;
  // Approve comes first in the form so pressing Enter in the password field approves (it is drawn on the right).
  const body = `<h1>Allow access to your Messages?</h1>
<p><strong id="client-name">${escapeHtml(clientName)}</strong> wants to use your Mac's Messages through this server.</p>
${describeClientSite(client)}
<p class="muted">After approval you will be sent back to <code id="redirect-host">${escapeHtml(redirect.shown)}</code>${redirect.isApp ? " (a link handled by an app on your computer)" : ""}.
Client ID: <code>${escapeHtml(client.client_id)}</code></p>
${options.error ? `<p class="error" role="alert">${escapeHtml(options.error)}</p>` : ""}
<form method="post" action="/consent">
<input type="hidden" name="request_id" value="${escapeHtml(pending.id)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(pending.csrfToken)}">
${scopeChoice}
<label for="owner_password">Owner password (set with <code>mac-messages-mcp auth set-password</code>)</label>
<input type="password" id="owner_password" name="owner_password" autocomplete="current-password" autofocus>
<div class="buttons">
<button type="submit" name="decision" value="approve" class="approve">Approve</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</div></form>
<p class="muted">Only approve if you just started connecting an MCP client yourself.</p>`;
  res
    .status(options.status ?? 200)
    .type("html")
    .send(page("Allow access to Messages", body));
}

/**
 * A client identified by a metadata document URL chose its own name; the site that published the document
 * is the part it cannot fake, so the page names that host plainly.
 */
function describeClientSite(client: RegisteredClient): string {
  if (!isClientIdUrl(client.client_id)) return "";
  const host = new URL(client.client_id).host;
  return `<p>Published by the website <strong id="client-host">${escapeHtml(host)}</strong>. Only approve if you expect an app from ${escapeHtml(host)}.</p>`;
}

/**
 * How the consent page names where the browser goes next: the host for web and loopback addresses, the
 * scheme spelled out for an app link (`cursor://anysphere.cursor-mcp`), so an unexpected app stands out.
 */
function describeRedirect(uri: string): { shown: string; formTarget: string; isApp: boolean } {
  const url = new URL(uri);
  if (url.protocol === "https:" || url.protocol === "http:") {
    return { shown: url.host, formTarget: url.origin, isApp: false };
  }
  return {
    shown: `${url.protocol}//${url.host}${url.host ? "" : url.pathname}`,
    formTarget: url.protocol,
    isApp: true,
  };
}

/** Sends the browser back to the client with these parameters (RFC 6749 §4.1.2, RFC 9207 `iss`). */
export function redirectToClient(
  res: Response,
  redirectUri: string,
  params: Record<string, string | undefined>,
): void {
  const target = new URL(redirectUri);
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) target.searchParams.set(key, value);
  res.setHeader("Cache-Control", "no-store");
  res.redirect(302, target.href);
}

export function renderProblem(res: Response, status: number, message: string): void {
  setPageSecurityHeaders(res, "'none'");
  res
    .status(status)
    .type("html")
    .send(
      page(
        "Authorization problem",
        `<h1>Authorization problem</h1><p class="error">${escapeHtml(message)}</p>`,
      ),
    );
}

/** POST /consent: the owner's answer to a pending authorization request. */
export function consentRouter(settings: ConsentSettings): Router {
  const { provider, logger } = settings;
  const router = express.Router();
  // Every POST counts here, right or wrong, before the form is even parsed: junk that never reaches the
  // password check (bad CSRF, unknown request) still cannot be sent without limit.
  const postLimit = rateLimit({
    windowMs: 60_000,
    limit: settings.postsPerMinute ?? 30,
    standardHeaders: "draft-7",
    legacyHeaders: false,
    validate: { xForwardedForHeader: false },
    handler: (_req, res) => {
      renderProblem(res, 429, "Too many requests to the consent page. Wait a minute and try again.");
    },
  });
  router.post(
    "/consent",
    postLimit,
    express.urlencoded({ extended: false, limit: "16kb" }),
    async (req, res) => {
      const form = (req.body ?? {}) as Record<string, unknown>;
      const field = (name: string) => (typeof form[name] === "string" ? (form[name] as string) : "");
      const pending = provider.getPendingConsent(field("request_id"));
      if (!pending) {
        renderProblem(
          res,
          400,
          "This authorization request has expired or was already answered. Start again from your MCP client.",
        );
        return;
      }
      const cookie = readCookie(req, cookieName(pending)) ?? "";
      if (!safeEqual(field("csrf_token"), pending.csrfToken) || !safeEqual(cookie, pending.csrfToken)) {
        renderProblem(
          res,
          403,
          "The form could not be verified (missing or wrong CSRF token). Reload the page from your MCP client.",
        );
        return;
      }
      const client = provider.getClient(pending.clientId);
      if (!client) {
        provider.dropPendingConsent(pending.id);
        renderProblem(res, 400, "This client is no longer registered. Start again from your MCP client.");
        return;
      }
      if (field("decision") === "deny") {
        provider.dropPendingConsent(pending.id);
        logger.info(`owner denied client ${pending.clientId}`);
        settings.audit?.record({ kind: "consent_denied", clientId: pending.clientId });
        redirectToClient(res, pending.redirectUri, {
          error: "access_denied",
          error_description: "The owner denied the request",
          state: pending.state,
          iss: settings.issuer,
        });
        return;
      }
      if (field("decision") !== "approve") {
        renderConsentPage(res, pending, client, {
          ...settings,
          error: "Choose Approve or Deny.",
          status: 400,
        });
        return;
      }
      const source = req.ip ?? "unknown";
      // Counted before the password is even looked at: no more than the limit can reach the check at once.
      const started = settings.guard.begin(source);
      if (!started.ok) {
        logger.warn(
          started.scope === "source"
            ? `consent locked for ${source} after too many wrong owner passwords`
            : "consent locked for everyone after too many wrong owner passwords from many addresses; `mac-messages-mcp auth unlock` lifts it",
        );
        res.setHeader("Retry-After", String(started.retryAfterSeconds));
        renderProblem(
          res,
          429,
          `Too many wrong passwords. Try again in ${Math.ceil(started.retryAfterSeconds / 60)} minute(s), ` +
            "or run `mac-messages-mcp auth unlock` on the server.",
        );
        return;
      }
      const password = field("owner_password");
      const valid =
        password.length > 0 &&
        password.length <= MAX_PASSWORD_LENGTH &&
        (await started.attempt.verify(() => settings.verifyOwnerPassword(password)));
      // The request may have been answered (or expired) while the check waited its turn.
      if (provider.getPendingConsent(pending.id) !== pending) {
        renderProblem(
          res,
          400,
          "This authorization request was already answered. Start again from your MCP client.",
        );
        return;
      }
      if (!valid) {
        logger.warn(`wrong owner password on consent page for client ${pending.clientId} from ${source}`);
        settings.audit?.record({ kind: "consent_password_failed", clientId: pending.clientId, source });
        renderConsentPage(res, pending, client, { ...settings, error: "Wrong owner password.", status: 401 });
        return;
      }
      const wantsSend = field("access") === "read_send" && pending.requestedScopes.includes(SCOPE_SEND);
      const scopes = wantsSend ? [SCOPE_READ, SCOPE_SEND] : [SCOPE_READ];
      const code = provider.approve(pending, scopes);
      logger.info(`owner approved client ${pending.clientId} with scopes ${scopes.join(" ")}`);
      settings.audit?.record({ kind: "consent_approved", clientId: pending.clientId, scopes, source });
      redirectToClient(res, pending.redirectUri, { code, state: pending.state, iss: settings.issuer });
    },
  );
  return router;
}
