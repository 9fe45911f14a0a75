// The OAuth client side over plain HTTP, no browser: the consent form is read and posted like a browser
// would (GET /authorize, hidden fields + CSRF cookie, POST /consent), and a complete grant is
// registration → PKCE → owner approval → code exchange. Shared by the remote/security/stress tests and
// the benchmark (which is why nothing here loads Playwright).
import { createHash, randomBytes } from "node:crypto";
import { OWNER_PASSWORD } from "./remote-fixtures.js";

export const TEST_REDIRECT = "http://127.0.0.1:7777/callback";

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

export interface ConsentPage {
  status: number;
  html: string;
  requestId: string;
  csrfToken: string;
  cookie: string;
  headers: Headers;
}

/** GET /authorize like a browser would, returning the form's hidden fields and the CSRF cookie. */
export async function openConsentPage(authorizationUrl: string): Promise<ConsentPage> {
  const res = await fetch(authorizationUrl, { redirect: "manual" });
  const html = await res.text();
  const field = (name: string) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1] ?? "";
  const setCookie = res.headers.get("set-cookie") ?? "";
  return {
    status: res.status,
    html,
    requestId: field("request_id"),
    csrfToken: field("csrf_token"),
    cookie: setCookie.split(";")[0] ?? "",
    headers: res.headers,
  };
}

/** POST /consent like the browser form would. */
export async function submitConsent(
  serverUrl: string,
  page: ConsentPage,
  fields: {
    password?: string;
    access?: string;
    decision: "approve" | "deny";
    csrfToken?: string;
    cookie?: string;
    /** Extra request headers, e.g. X-Forwarded-For as a trusted proxy would send it. */
    headers?: Record<string, string>;
  },
): Promise<Response> {
  const body = new URLSearchParams({
    request_id: page.requestId,
    csrf_token: fields.csrfToken ?? page.csrfToken,
    owner_password: fields.password ?? "",
    access: fields.access ?? "read_send",
    decision: fields.decision,
  });
  return await fetch(`${serverUrl}/consent`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: fields.cookie ?? page.cookie,
      ...fields.headers,
    },
    body,
  });
}

/** Dynamic client registration of a public (PKCE) client; returns its client_id. */
export async function registerClient(
  serverUrl: string,
  { redirectUris = [TEST_REDIRECT], clientName = "Security Test" } = {},
): Promise<string> {
  const res = await fetch(`${serverUrl}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: clientName,
      redirect_uris: redirectUris,
      token_endpoint_auth_method: "none",
    }),
  });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { client_id: string }).client_id;
}

/** An /authorize URL asking for both scopes; `extra` adds or replaces parameters (resource, state, …). */
export function authorizeUrl(
  serverUrl: string,
  clientId: string,
  challenge: string,
  extra: Record<string, string> = {},
): string {
  const url = new URL(`${serverUrl}/authorize`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: TEST_REDIRECT,
    code_challenge: challenge,
    code_challenge_method: "S256",
    scope: "messages:read messages:send",
    state: "s",
    ...extra,
  }).toString();
  return url.href;
}

/** How the owner answers the consent form; default: the test owner password, read and send. */
export interface ConsentAnswer {
  password?: string;
  access?: "read" | "read_send";
}

/** Owner approval over HTTP; returns the authorization code from the redirect (which must echo `state`). */
export async function approvedCode(
  serverUrl: string,
  clientId: string,
  challenge: string,
  extra: Record<string, string> = {},
  answer: ConsentAnswer = {},
): Promise<string> {
  const url = authorizeUrl(serverUrl, clientId, challenge, extra);
  const page = await openConsentPage(url);
  if (page.status !== 200)
    throw new Error(`consent page answered ${page.status}: ${page.html.slice(0, 200)}`);
  const res = await submitConsent(serverUrl, page, {
    password: answer.password ?? OWNER_PASSWORD,
    access: answer.access,
    decision: "approve",
  });
  const location = res.headers.get("location");
  if (res.status !== 302 || !location) throw new Error(`consent answered ${res.status}`);
  const redirect = new URL(location).searchParams;
  const state = new URL(url).searchParams.get("state");
  if (redirect.get("state") !== state) throw new Error(`redirect carries state ${redirect.get("state")}`);
  const code = redirect.get("code");
  if (!code) throw new Error(`no code in ${location}`);
  return code;
}

export async function postToken(
  serverUrl: string,
  params: Record<string, string>,
): Promise<{ status: number; body: Record<string, string> }> {
  const res = await fetch(`${serverUrl}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

export interface GrantedTokens {
  access_token: string;
  refresh_token: string;
  scope: string;
  clientId: string;
}

/** A complete grant for `clientId` (registering one when not given). */
export async function obtainTokens(
  serverUrl: string,
  options: { clientId?: string; authorize?: Record<string, string> } & ConsentAnswer = {},
): Promise<GrantedTokens> {
  const id = options.clientId ?? (await registerClient(serverUrl));
  const { verifier, challenge } = pkcePair();
  const code = await approvedCode(serverUrl, id, challenge, options.authorize, options);
  const res = await postToken(serverUrl, {
    grant_type: "authorization_code",
    client_id: id,
    code,
    code_verifier: verifier,
    redirect_uri: TEST_REDIRECT,
  });
  if (res.status !== 200) throw new Error(`token exchange failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...(res.body as unknown as GrantedTokens), clientId: id };
}
