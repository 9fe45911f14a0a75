// Open dynamic registration under abuse (issue #14 findings 3, 5, 11; #16 item 5): never-approved
// registrations cannot take the owner's slots, metadata is bounded, native-app schemes work while
// dangerous ones are refused, and a client name cannot forge log lines.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { OAuthStore } from "../../src/remote/index.js";
import { makeStateDir, startTestRemote, type TestRemote } from "../helpers/remote-fixtures.js";
import {
  authorizeUrl,
  obtainTokens,
  openConsentPage,
  pkcePair,
  TEST_REDIRECT,
} from "../helpers/remote-oauth-http.js";

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function freshRemote() {
  const state = await makeStateDir();
  cleanups.push(state.cleanup);
  const remote = await startTestRemote(state.dir);
  cleanups.push(() => remote.close());
  return { remote, dir: state.dir };
}

let addressCounter = 0;
/** POST /register from its own (proxy-reported) address, so the per-address limit is not what answers. */
async function register(remote: TestRemote, metadata: Record<string, unknown>, body?: string) {
  addressCounter++;
  const res = await fetch(`${remote.serverUrl}/register`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-forwarded-for": `10.${(addressCounter >> 16) & 255}.${(addressCounter >> 8) & 255}.${addressCounter & 255}`,
    },
    body: body ?? JSON.stringify(metadata),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function countClients(dir: string, approved: boolean): number {
  const store = OAuthStore.open(dir);
  try {
    return store.countClients(approved);
  } finally {
    store.close();
  }
}

test("520 registrations from rotating addresses do not lock out the owner's next client; the rest expire within an hour", async () => {
  const { remote, dir } = await freshRemote();
  for (let i = 0; i < 520; i++) {
    const res = await register(remote, {
      client_name: `flood ${i}`,
      redirect_uris: ["https://evil.example/cb"],
    });
    assert.equal(res.status, 201, `registration ${i}: ${JSON.stringify(res.body)}`);
  }
  assert.ok(countClients(dir, false) <= 200, "never-approved registrations are bounded");
  // The owner's client registers and completes a grant right after the flood.
  const owner = await register(remote, { client_name: "Owner's laptop", redirect_uris: [TEST_REDIRECT] });
  assert.equal(owner.status, 201);
  const tokens = await obtainTokens(remote.serverUrl, { clientId: owner.body.client_id as string });
  assert.ok(tokens.access_token);
  assert.equal(countClients(dir, true), 1);
  // An hour later the flood is gone; the approved client stays.
  remote.clock.offsetMs += 61 * 60_000;
  const later = await register(remote, { redirect_uris: [TEST_REDIRECT] });
  assert.equal(later.status, 201);
  assert.equal(countClients(dir, false), 1);
  assert.equal(countClients(dir, true), 1);
});

test("when every approved slot is taken, registration answers 503 temporarily_unavailable", async () => {
  const { remote, dir } = await freshRemote();
  const store = OAuthStore.open(dir);
  const now = Math.floor(Date.now() / 1000);
  store.transaction(() => {
    for (let i = 0; i < 500; i++) {
      store.insertClient({
        client_id: `approved-${i}`,
        client_id_issued_at: now,
        redirect_uris: [TEST_REDIRECT],
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
      });
      store.markApproved(`approved-${i}`, now);
    }
  });
  store.close();
  const res = await register(remote, { redirect_uris: [TEST_REDIRECT] });
  assert.equal(res.status, 503);
  assert.equal(res.body.error, "temporarily_unavailable");
  assert.match(String(res.body.error_description), /auth revoke/);
});

test("client metadata is bounded: long names, many URIs and big bodies are refused with a readable error", async () => {
  const { remote } = await freshRemote();
  const huge = await register(remote, { client_name: "x".repeat(95_000), redirect_uris: [TEST_REDIRECT] });
  assert.equal(huge.status, 413);
  const longName = await register(remote, { client_name: "x".repeat(5_000), redirect_uris: [TEST_REDIRECT] });
  assert.equal(longName.status, 400);
  assert.equal(longName.body.error, "invalid_client_metadata");
  assert.equal(longName.body.error_description, "client_name is longer than 200 characters");
  const manyUris = await register(remote, {
    redirect_uris: Array.from({ length: 11 }, (_, i) => `https://app.example/cb${i}`),
  });
  assert.equal(manyUris.status, 400);
  assert.equal(manyUris.body.error, "invalid_redirect_uri");
  const none = await register(remote, { client_name: "no uris" });
  assert.equal(none.status, 400);
  assert.equal(none.body.error_description, "redirect_uris is required");
  const notJson = await register(remote, {}, "{oops");
  assert.equal(notJson.status, 400);
  assert.doesNotMatch(JSON.stringify(notJson.body), /at .*\.js|ZodError|"path"/);
});

test("native-app schemes register (Cursor, VS Code, reverse-DNS); javascript:, data:, file: never do", async () => {
  const { remote } = await freshRemote();
  for (const uri of [
    "cursor://anysphere.cursor-mcp/oauth/callback",
    "vscode://vscode.github-authentication/did-authenticate",
    "com.example.app:/oauth2redirect",
  ]) {
    const res = await register(remote, { client_name: "Native", redirect_uris: [uri] });
    assert.equal(res.status, 201, `${uri}: ${JSON.stringify(res.body)}`);
  }
  for (const uri of [
    "javascript:alert(1)",
    "data:text/html,hi",
    "file:///etc/passwd",
    "http://evil.example/cb",
  ]) {
    const res = await register(remote, { redirect_uris: [uri] });
    assert.equal(res.status, 400, uri);
    assert.equal(res.body.error, "invalid_redirect_uri");
  }
  // The consent page names the app link's scheme plainly, and lets the form go there.
  const cursor = await register(remote, {
    client_name: "Cursor",
    redirect_uris: ["cursor://anysphere.cursor-mcp/oauth/callback"],
  });
  const page = await openConsentPage(
    authorizeUrl(remote.serverUrl, cursor.body.client_id as string, pkcePair().challenge, {
      redirect_uri: "cursor://anysphere.cursor-mcp/oauth/callback",
    }),
  );
  assert.equal(page.status, 200);
  assert.match(page.html, /cursor:\/\/anysphere\.cursor-mcp/);
  assert.match(page.html, /handled by an app/);
  assert.match(page.headers.get("content-security-policy") ?? "", /form-action 'self' cursor:/);
});

test("a client_name cannot forge log lines or hide behind control characters", async () => {
  const { remote } = await freshRemote();
  const forged = "Evil\n2026-01-01T00:00:00.000Z INFO owner approved client trusted-client\r\u202Eevil";
  const res = await register(remote, { client_name: forged, redirect_uris: [TEST_REDIRECT] });
  assert.equal(res.status, 201);
  assert.doesNotMatch(String(res.body.client_name), /[\n\r\u202E]/);
  for (const line of remote.logs) assert.doesNotMatch(line, /[\n\r]/, "every log entry is exactly one line");
  assert.ok(!remote.logs.some((l) => l.startsWith("2026-01-01T00:00:00.000Z")));
});
