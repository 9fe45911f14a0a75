// OAuth edge cases against the real server over HTTP: the consent form is submitted like a browser
// would (GET /authorize, hidden fields + cookie, POST /consent), without launching one.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  makeStateDir,
  OWNER_PASSWORD,
  startTestRemote,
  type TestRemote,
} from "../helpers/remote-fixtures.js";
import {
  approvedCode as approvedCodeAt,
  authorizeUrl as authorizeUrlAt,
  obtainTokens,
  openConsentPage,
  pkcePair,
  postToken,
  submitConsent,
  TEST_REDIRECT,
} from "../helpers/remote-oauth-http.js";
import { waitUntil } from "../helpers/wait.js";

let state: Awaited<ReturnType<typeof makeStateDir>>;
let remote: TestRemote;

before(async () => {
  state = await makeStateDir();
  remote = await startTestRemote(state.dir);
});
after(async () => {
  await remote?.close();
  state?.cleanup();
});

interface TokenResponse {
  access_token: string;
  refresh_token: string;
  scope: string;
  error?: string;
}

async function register(redirectUris: string[] = [TEST_REDIRECT]): Promise<Response> {
  return await fetch(`${remote.serverUrl}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: "Negative Test",
      redirect_uris: redirectUris,
      token_endpoint_auth_method: "none",
    }),
  });
}

async function freshClientId(): Promise<string> {
  const res = await register();
  assert.equal(res.status, 201);
  return ((await res.json()) as { client_id: string }).client_id;
}

// Registration is rate-limited (20 per hour), so most tests share one client.
let sharedClientId: string | undefined;
async function registeredClientId(): Promise<string> {
  sharedClientId ??= await freshClientId();
  return sharedClientId;
}

/** Every request here names the /mcp resource and a state the redirect must echo. */
const withDefaults = (extra: Record<string, string>) => ({
  resource: `${remote.serverUrl}/mcp`,
  state: "st4te",
  ...extra,
});

function authorizeUrl(clientId: string, challenge: string, extra: Record<string, string> = {}): string {
  return authorizeUrlAt(remote.serverUrl, clientId, challenge, withDefaults(extra));
}

/** Owner approves over HTTP; returns the code from the redirect (which must carry the state back). */
async function approvedCode(clientId: string, challenge: string, extra: Record<string, string> = {}) {
  return await approvedCodeAt(remote.serverUrl, clientId, challenge, withDefaults(extra));
}

/** POST /token; a code exchange repeats the authorization request's redirect_uri unless the test names one. */
async function token(params: Record<string, string>): Promise<{ status: number; body: TokenResponse }> {
  const withRedirect =
    params.grant_type === "authorization_code" && !("redirect_uri" in params)
      ? { ...params, redirect_uri: TEST_REDIRECT }
      : params;
  const { status, body } = await postToken(remote.serverUrl, withRedirect);
  return { status, body: body as unknown as TokenResponse };
}

async function refresh(clientId: string, refreshToken: string, extra: Record<string, string> = {}) {
  return await token({
    grant_type: "refresh_token",
    client_id: clientId,
    refresh_token: refreshToken,
    ...extra,
  });
}

async function grant(clientId: string): Promise<TokenResponse> {
  return await obtainTokens(remote.serverUrl, { clientId, authorize: withDefaults({}) });
}

async function mcpStatus(accessToken: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${remote.serverUrl}/mcp`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${accessToken}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
  await res.arrayBuffer();
  return res.status;
}

test("DCR answers 201 with integer timestamps, no nulls, a public client; bad redirect URIs are refused", async () => {
  const res = await register();
  assert.equal(res.status, 201);
  const body = (await res.json()) as Record<string, unknown>;
  assert.ok(Number.isInteger(body.client_id_issued_at));
  assert.equal(body.token_endpoint_auth_method, "none");
  assert.equal(body.client_secret, undefined);
  assert.ok(Object.values(body).every((v) => v !== null));
  for (const bad of ["http://evil.example/cb", "javascript:alert(1)", "https://ok.example/cb#frag"]) {
    const refused = await register([bad]);
    assert.equal(refused.status, 400, bad);
    assert.match(
      ((await refused.json()) as { error: string }).error,
      /invalid_redirect_uri|invalid_client_metadata/,
    );
  }
});

test("a full grant works; wrong PKCE verifier burns the code", async () => {
  const clientId = await registeredClientId();
  const tokens = await grant(clientId);
  assert.equal(tokens.scope, "messages:read messages:send");
  assert.equal(await mcpStatus(tokens.access_token), 200);

  const { verifier, challenge } = pkcePair();
  const code = await approvedCode(clientId, challenge);
  const wrong = await token({
    grant_type: "authorization_code",
    client_id: clientId,
    code,
    code_verifier: pkcePair().verifier,
  });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.body.error, "invalid_grant");
  const retry = await token({
    grant_type: "authorization_code",
    client_id: clientId,
    code,
    code_verifier: verifier,
  });
  assert.equal(retry.status, 400, "a code gets exactly one PKCE attempt");
});

test("a reused code is refused and revokes what the first use produced", async () => {
  const clientId = await registeredClientId();
  const { verifier, challenge } = pkcePair();
  const code = await approvedCode(clientId, challenge);
  const first = await token({
    grant_type: "authorization_code",
    client_id: clientId,
    code,
    code_verifier: verifier,
  });
  assert.equal(first.status, 200);
  assert.equal(await mcpStatus(first.body.access_token), 200);
  const second = await token({
    grant_type: "authorization_code",
    client_id: clientId,
    code,
    code_verifier: verifier,
  });
  assert.equal(second.status, 400);
  assert.equal(second.body.error, "invalid_grant");
  assert.equal(await mcpStatus(first.body.access_token), 401);
});

test("codes are bound to client and redirect URI, and expire after 60 s", async () => {
  const clientId = await registeredClientId();
  const otherClient = await freshClientId();
  const { verifier, challenge } = pkcePair();
  const code = await approvedCode(clientId, challenge);
  const foreign = await token({
    grant_type: "authorization_code",
    client_id: otherClient,
    code,
    code_verifier: verifier,
  });
  assert.equal(foreign.status, 400);
  const wrongRedirect = await token({
    grant_type: "authorization_code",
    client_id: clientId,
    code: await approvedCode(clientId, challenge),
    code_verifier: verifier,
    redirect_uri: "http://127.0.0.1:7777/other",
  });
  assert.equal(wrongRedirect.status, 400);

  const late = await approvedCode(clientId, challenge);
  remote.clock.offsetMs += 61_000;
  try {
    const expired = await token({
      grant_type: "authorization_code",
      client_id: clientId,
      code: late,
      code_verifier: verifier,
    });
    assert.equal(expired.status, 400);
    assert.equal(expired.body.error, "invalid_grant");
  } finally {
    remote.clock.offsetMs -= 61_000;
  }
});

test("foreign redirect URI is rejected without redirecting; loopback port may differ (RFC 8252)", async () => {
  const clientId = await registeredClientId();
  const { challenge } = pkcePair();
  const foreign = await fetch(
    authorizeUrl(clientId, challenge, { redirect_uri: "https://attacker.example/cb" }),
    {
      redirect: "manual",
    },
  );
  assert.equal(foreign.status, 400);
  assert.equal(foreign.headers.get("location"), null);
  const otherPath = await fetch(
    authorizeUrl(clientId, challenge, { redirect_uri: "http://127.0.0.1:7777/evil" }),
    {
      redirect: "manual",
    },
  );
  assert.equal(otherPath.status, 400);
  const otherPort = await openConsentPage(
    authorizeUrl(clientId, challenge, { redirect_uri: "http://127.0.0.1:9999/callback" }),
  );
  assert.equal(otherPort.status, 200);
  assert.match(otherPort.html, /127\.0\.0\.1:9999/);
});

test("unknown scopes are left out of the grant; a foreign resource is reported with state and iss", async () => {
  const clientId = await freshClientId();
  const { challenge } = pkcePair();
  // Scopes this server does not know (RFC 6749 §3.3): the consent page offers the supported subset.
  const page = await openConsentPage(
    authorizeUrl(clientId, challenge, { scope: "openid offline_access claudeai messages:read" }),
  );
  assert.equal(page.status, 200);
  assert.match(page.html, /read your messages/);
  // A never-approved client's errors are shown, not redirected (anyone may have registered that URI).
  const unapproved = await fetch(
    authorizeUrl(clientId, challenge, { resource: "https://other.example/mcp" }),
    {
      redirect: "manual",
    },
  );
  assert.equal(unapproved.status, 400);
  assert.equal(unapproved.headers.get("location"), null);
  assert.match(await unapproved.text(), /invalid_target/);
  // Once the owner approved the client, errors go back to it, with state and the issuer (RFC 9207).
  const tokens = await grant(clientId);
  assert.equal(tokens.scope, "messages:read messages:send");
  const approved = await fetch(authorizeUrl(clientId, challenge, { resource: "https://other.example/mcp" }), {
    redirect: "manual",
  });
  assert.equal(approved.status, 302);
  const location = new URL(approved.headers.get("location")!);
  assert.equal(`${location.origin}${location.pathname}`, TEST_REDIRECT);
  assert.equal(location.searchParams.get("error"), "invalid_target");
  assert.equal(location.searchParams.get("state"), "st4te");
  assert.equal(location.searchParams.get("iss"), remote.serverUrl);
});

test("a code exchange must repeat the redirect_uri the authorization request named (OAuth 2.1)", async () => {
  const clientId = await registeredClientId();
  const { verifier, challenge } = pkcePair();
  const code = await approvedCode(clientId, challenge);
  const missing = await postToken(remote.serverUrl, {
    grant_type: "authorization_code",
    client_id: clientId,
    code,
    code_verifier: verifier,
  });
  assert.equal(missing.status, 400);
  assert.equal(missing.body.error, "invalid_request");
  assert.match(missing.body.error_description ?? "", /redirect_uri/);
});

test("consent page: security headers, wrong password, CSRF, deny, lockout", async () => {
  const clientId = await registeredClientId();
  const { challenge } = pkcePair();
  const page = await openConsentPage(authorizeUrl(clientId, challenge));
  assert.match(page.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/);
  assert.equal(page.headers.get("x-frame-options"), "DENY");
  assert.match(page.html, /Negative Test/);
  assert.match(page.cookie, /^mmcp_consent_/);

  const wrong = await submitConsent(remote.serverUrl, page, {
    password: "not the password",
    decision: "approve",
  });
  assert.equal(wrong.status, 401);
  assert.match(await wrong.text(), /Wrong owner password/);

  const noCookie = await submitConsent(remote.serverUrl, page, {
    password: OWNER_PASSWORD,
    decision: "approve",
    cookie: "",
  });
  assert.equal(noCookie.status, 403);
  const badToken = await submitConsent(remote.serverUrl, page, {
    password: OWNER_PASSWORD,
    decision: "approve",
    csrfToken: "x".repeat(page.csrfToken.length),
  });
  assert.equal(badToken.status, 403);

  const denied = await submitConsent(remote.serverUrl, page, { decision: "deny" });
  assert.equal(denied.status, 302);
  const location = new URL(denied.headers.get("location")!);
  assert.equal(location.searchParams.get("error"), "access_denied");
  assert.equal(location.searchParams.get("state"), "st4te");
  const afterDeny = await submitConsent(remote.serverUrl, page, {
    password: OWNER_PASSWORD,
    decision: "approve",
  });
  assert.equal(afterDeny.status, 400, "a denied request cannot be approved later");

  // Ten wrong passwords (one above plus nine) lock the consent page, even for the right one.
  const lockPage = await openConsentPage(authorizeUrl(clientId, challenge));
  let lastStatus = 0;
  for (let i = 0; i < 9; i++) {
    lastStatus = (
      await submitConsent(remote.serverUrl, lockPage, { password: `guess-${i}`, decision: "approve" })
    ).status;
  }
  assert.equal(lastStatus, 401);
  const locked = await submitConsent(remote.serverUrl, lockPage, {
    password: OWNER_PASSWORD,
    decision: "approve",
  });
  assert.equal(locked.status, 429);
  remote.clock.offsetMs += 16 * 60_000;
  try {
    const unlocked = await submitConsent(
      remote.serverUrl,
      await openConsentPage(authorizeUrl(clientId, challenge)),
      {
        password: OWNER_PASSWORD,
        decision: "approve",
      },
    );
    assert.equal(unlocked.status, 302);
  } finally {
    remote.clock.offsetMs -= 16 * 60_000;
  }
});

test("access tokens expire after 24 h and revoked tokens stop working", async () => {
  const clientId = await registeredClientId();
  const tokens = await grant(clientId);
  remote.clock.offsetMs += 86_400_000 + 1000;
  try {
    assert.equal(await mcpStatus(tokens.access_token), 401);
  } finally {
    remote.clock.offsetMs -= 86_400_000 + 1000;
  }
  assert.equal(await mcpStatus(tokens.access_token), 200);

  const revoke = await fetch(`${remote.serverUrl}/revoke`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      client_id: clientId,
      token: tokens.refresh_token,
      token_type_hint: "refresh_token",
    }),
  });
  assert.equal(revoke.status, 200);
  assert.equal(await mcpStatus(tokens.access_token), 401, "revoking the refresh token ends the grant");
  const refreshed = await refresh(clientId, tokens.refresh_token);
  assert.equal(refreshed.body.error, "invalid_grant");
});

test("refresh rotates; the old token works within the grace window, replay after it revokes the grant", async () => {
  const clientId = await registeredClientId();
  const tokens = await grant(clientId);
  const first = await refresh(clientId, tokens.refresh_token);
  assert.equal(first.status, 200);
  assert.notEqual(first.body.refresh_token, tokens.refresh_token);
  // A parallel session still holding the old refresh token, moments later.
  const parallel = await refresh(clientId, tokens.refresh_token);
  assert.equal(parallel.status, 200);
  assert.equal(await mcpStatus(parallel.body.access_token), 200);

  remote.clock.offsetMs += 10 * 60_000;
  try {
    const replay = await refresh(clientId, tokens.refresh_token);
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, "invalid_grant");
    assert.equal(await mcpStatus(first.body.access_token), 401);
    const successor = await refresh(clientId, first.body.refresh_token);
    assert.equal(successor.status, 400, "the whole token family is revoked");
  } finally {
    remote.clock.offsetMs -= 10 * 60_000;
  }
});

test("refresh cannot widen scope or switch to a foreign resource; other clients cannot use it", async () => {
  const clientId = await registeredClientId();
  const tokens = await grant(clientId);
  const other = await freshClientId();
  const stolen = await refresh(other, tokens.refresh_token);
  assert.equal(stolen.body.error, "invalid_grant");
  const foreign = await refresh(clientId, tokens.refresh_token, {
    resource: "https://elsewhere.example/mcp",
  });
  assert.equal(foreign.body.error, "invalid_target");
  const narrowed = await refresh(clientId, tokens.refresh_token, { scope: "messages:read" });
  assert.equal(narrowed.body.scope, "messages:read");
  const widened = await refresh(clientId, narrowed.body.refresh_token, {
    scope: "messages:read messages:send",
  });
  assert.equal(widened.body.error, "invalid_scope");
});

test("state database: 0600 in a 0700 directory, tokens only as hashes", async () => {
  const clientId = await registeredClientId();
  const tokens = await grant(clientId);
  const file = join(state.dir, "oauth_state.db");
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(`${file}-wal`).mode & 0o777, 0o600);
  assert.equal(statSync(state.dir).mode & 0o777, 0o700);
  const text = readFileSync(file, "latin1") + readFileSync(`${file}-wal`, "latin1");
  assert.ok(!text.includes(tokens.access_token) && !text.includes(tokens.refresh_token));
  assert.ok(text.includes(createHash("sha256").update(tokens.access_token).digest("hex")));
  assert.ok(text.includes(clientId));
  assert.ok(!remote.logs.join("\n").includes(tokens.access_token));
});

test("MCP endpoints: 401 metadata pointer, bad tokens, Origin validation and CORS", async () => {
  const missing = await fetch(`${remote.serverUrl}/mcp`, { method: "POST" });
  assert.equal(missing.status, 401);
  assert.equal(
    missing.headers.get("www-authenticate"),
    `Bearer resource_metadata="${remote.serverUrl}/.well-known/oauth-protected-resource/mcp"`,
  );
  assert.equal(await mcpStatus("not-a-token"), 401);

  const clientId = await registeredClientId();
  const tokens = await grant(clientId);
  assert.equal(await mcpStatus(tokens.access_token, { origin: "https://evil.example" }), 403);
  assert.equal(await mcpStatus(tokens.access_token, { origin: remote.serverUrl }), 200);
  const preflight = await fetch(`${remote.serverUrl}/mcp`, {
    method: "OPTIONS",
    headers: { origin: "http://localhost:6274", "access-control-request-method": "POST" },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), "http://localhost:6274");
  assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /Authorization/);

  const getMcp = await fetch(`${remote.serverUrl}/mcp`, {
    headers: { authorization: `Bearer ${tokens.access_token}` },
  });
  assert.equal(getMcp.status, 405);
  const badJson = await fetch(`${remote.serverUrl}/mcp`, {
    method: "POST",
    headers: { authorization: `Bearer ${tokens.access_token}`, "content-type": "application/json" },
    body: "{not json",
  });
  assert.equal(badJson.status, 400);
  const badJsonBody = await badJson.text();
  assert.match(badJsonBody, /Parse error/);
  assert.doesNotMatch(badJsonBody, /at .*\.js/);

  const unknownSse = await fetch(`${remote.serverUrl}/messages?sessionId=nope`, {
    method: "POST",
    headers: { authorization: `Bearer ${tokens.access_token}`, "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
  });
  assert.equal(unknownSse.status, 404);
});

test("well-known metadata: RFC 8414 and RFC 9728 documents, unknown names 404", async () => {
  const as = (await (
    await fetch(`${remote.serverUrl}/.well-known/oauth-authorization-server`)
  ).json()) as Record<string, unknown>;
  assert.deepEqual(as.code_challenge_methods_supported, ["S256"]);
  assert.ok((as.grant_types_supported as string[]).includes("refresh_token"));
  assert.equal(as.registration_endpoint, `${remote.serverUrl}/register`);
  assert.equal(as.revocation_endpoint, `${remote.serverUrl}/revoke`);
  // Clients are public (PKCE, no secret), and the metadata says so.
  assert.deepEqual(as.token_endpoint_auth_methods_supported, ["none"]);
  assert.deepEqual(as.revocation_endpoint_auth_methods_supported, ["none"]);
  // The issuer is the --server-url exactly, without a trailing slash; RFC 9207 is advertised.
  assert.equal(as.issuer, remote.serverUrl);
  assert.equal(as.authorization_response_iss_parameter_supported, true);
  for (const path of ["", "/mcp", "/sse"]) {
    const res = await fetch(`${remote.serverUrl}/.well-known/oauth-protected-resource${path}`);
    assert.equal(res.status, 200);
    const prm = (await res.json()) as { resource: string; authorization_servers: string[] };
    assert.equal(prm.resource.replace(/\/$/, ""), `${remote.serverUrl}${path}`);
    assert.deepEqual(prm.authorization_servers, [remote.serverUrl]);
  }
  const unknown = await fetch(`${remote.serverUrl}/.well-known/openid-configuration`);
  assert.equal(unknown.status, 404);
  assert.equal(((await unknown.json()) as { error: string }).error, "not_found");
  const health = (await (await fetch(`${remote.serverUrl}/health`)).json()) as { status: string };
  assert.equal(health.status, "ok");
});

test("SSE stream: endpoint event, keep-alive pings, session cleaned up on disconnect", async () => {
  const sseRemote = await startTestRemote(state.dir, { sseKeepAliveMs: 20 });
  try {
    const clientId = await registeredClientId();
    // Tokens are bound to the server URL, which differs for this second server: get one from it.
    const { access_token } = await obtainTokens(sseRemote.serverUrl, { clientId });
    // A token minted for the first server is refused here (audience binding).
    assert.equal(
      (
        await fetch(`${sseRemote.serverUrl}/sse`, {
          headers: { authorization: `Bearer ${(await grant(clientId)).access_token}` },
        })
      ).status,
      401,
    );

    const controller = new AbortController();
    const res = await fetch(`${sseRemote.serverUrl}/sse`, {
      headers: { authorization: `Bearer ${access_token}`, accept: "text/event-stream" },
      signal: controller.signal,
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    while (!(seen.includes("event: endpoint") && seen.includes(": ping"))) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value);
    }
    assert.match(seen, /data: \/messages\?sessionId=[0-9a-f-]+/);
    assert.match(seen, /: ping/);
    const health = async () =>
      ((await (await fetch(`${sseRemote.serverUrl}/health`)).json()) as { activeSseSessions: number })
        .activeSseSessions;
    assert.equal(await health(), 1);
    controller.abort();
    await reader.cancel().catch(() => {});
    // The server notices the disconnect on its next event-loop turns; poll the observable state.
    await waitUntil(async () => (await health()) === 0, "the SSE session to be cleaned up");
  } finally {
    await sseRemote.close();
  }
});
