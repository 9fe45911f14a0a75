// End to end: the official SDK client's OAuth flow against the real remote server, with the owner
// approving in headless Chromium. 401 → discovery → DCR → consent → token → tools over /mcp and /sse,
// then refresh, server restart, and reuse of the persisted grant.
import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { after, before, test } from "node:test";
import {
  auth,
  Client,
  SSEClientTransport,
  StreamableHTTPClientTransport,
  UnauthorizedError,
} from "@modelcontextprotocol/client";
import type { Browser } from "playwright-core";
import {
  makeStateDir,
  OWNER_PASSWORD,
  SEND_TOOL,
  startTestRemote,
  type TestRemote,
} from "../helpers/remote-fixtures.js";
import {
  consentInBrowser,
  LoopbackRedirectReceiver,
  launchChromium,
  TestOAuthClientProvider,
} from "../helpers/remote-oauth-client.js";

const SCREENSHOT = "test-artifacts/consent.png";

let browser: Browser;
let state: Awaited<ReturnType<typeof makeStateDir>>;
let remote: TestRemote;
let receiver: LoopbackRedirectReceiver;

before(async () => {
  browser = await launchChromium();
  state = await makeStateDir();
  remote = await startTestRemote(state.dir);
  receiver = new LoopbackRedirectReceiver();
  await receiver.start();
});

after(async () => {
  await browser?.close();
  await remote?.close();
  await receiver?.close();
  state?.cleanup();
});

function textOf(result: unknown): string {
  const content = (result as { content: { type: string; text?: string }[] }).content;
  return content.map((c) => c.text ?? "").join("");
}

/** Runs the SDK's interactive flow: first connect fails with 401, the browser approves, finishAuth trades the code. */
async function authorizeInteractively(
  provider: TestOAuthClientProvider,
  endpoint: "mcp" | "sse",
): Promise<URLSearchParams> {
  const url = new URL(`${remote.serverUrl}/${endpoint}`);
  const transport =
    endpoint === "mcp"
      ? new StreamableHTTPClientTransport(url, { authProvider: provider })
      : new SSEClientTransport(url, { authProvider: provider });
  const client = new Client({ name: "e2e", version: "1.0.0" });
  await assert.rejects(client.connect(transport), UnauthorizedError);
  await provider.consentDone;
  const redirect = await receiver.next();
  const code = redirect.get("code");
  assert.ok(code, `expected a code in the redirect, got ${redirect}`);
  // The whole callback: the client checks its RFC 9207 `iss` against the issuer it discovered.
  assert.equal(redirect.get("iss"), remote.serverUrl);
  await transport.finishAuth(redirect);
  await transport.close();
  return redirect;
}

async function connected(provider: TestOAuthClientProvider, endpoint: "mcp" | "sse"): Promise<Client> {
  const url = new URL(`${remote.serverUrl}/${endpoint}`);
  const transport =
    endpoint === "mcp"
      ? new StreamableHTTPClientTransport(url, { authProvider: provider })
      : new SSEClientTransport(url, { authProvider: provider });
  const client = new Client({ name: "e2e", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

test("SDK OAuth flow with browser consent, tools over /mcp and /sse, refresh, restart and reuse", async () => {
  const provider = new TestOAuthClientProvider(receiver.redirectUrl, (authorizationUrl) =>
    consentInBrowser(browser, authorizationUrl, {
      password: OWNER_PASSWORD,
      access: "read_send",
      screenshotPath: SCREENSHOT,
      expectClientName: "Remote E2E Test Client",
      expectRedirectHost: `127.0.0.1:${receiver.port}`,
    }),
  );

  const redirect = await authorizeInteractively(provider, "mcp");
  assert.equal(redirect.get("state"), null, "no state was sent, none must come back");
  assert.ok(
    existsSync(SCREENSHOT) && statSync(SCREENSHOT).size > 1000,
    "consent screenshot kept as artifact",
  );

  // The authorization request carried PKCE S256 and the resource indicator from the /mcp metadata.
  const authorizationUrl = provider.authorizationUrls[0]!;
  assert.equal(authorizationUrl.searchParams.get("code_challenge_method"), "S256");
  assert.equal(authorizationUrl.searchParams.get("resource"), `${remote.serverUrl}/mcp`);
  assert.equal(authorizationUrl.searchParams.get("scope"), "messages:read messages:send");

  const firstTokens = provider.tokens()!;
  assert.equal(firstTokens.scope, "messages:read messages:send");
  assert.equal(firstTokens.expires_in, 86_400);

  // Streamable HTTP at /mcp.
  const mcpClient = await connected(provider, "mcp");
  const tools = await mcpClient.listTools();
  assert.deepEqual(tools.tools.map((t) => t.name).sort(), ["echo", SEND_TOOL]);
  assert.equal(
    textOf(await mcpClient.callTool({ name: "echo", arguments: { text: "hi over mcp" } })),
    "echo: hi over mcp",
  );
  assert.equal(
    textOf(await mcpClient.callTool({ name: SEND_TOOL, arguments: { to: "+15555550123", text: "x" } })),
    "sent to +15555550123",
  );
  await mcpClient.close();

  // Legacy SSE at /sse with the same grant.
  const sseClient = await connected(provider, "sse");
  assert.equal(
    textOf(await sseClient.callTool({ name: "echo", arguments: { text: "hi over sse" } })),
    "echo: hi over sse",
  );
  await sseClient.close();

  const clientId = (provider.clientInformation() as { client_id: string }).client_id;
  assert.ok(remote.calls.length >= 3);
  for (const call of remote.calls) {
    assert.equal(call.clientId, clientId);
    assert.deepEqual(call.scopes, ["messages:read", "messages:send"]);
  }

  // Refresh through the SDK: a new access token and a rotated refresh token.
  assert.equal(await auth(provider, { serverUrl: `${remote.serverUrl}/mcp` }), "AUTHORIZED");
  const refreshed = provider.tokens()!;
  assert.notEqual(refreshed.access_token, firstTokens.access_token);
  assert.notEqual(refreshed.refresh_token, firstTokens.refresh_token);

  // Restart: the client and the hashed tokens come back from the state directory.
  await remote.restart();
  const afterRestart = await connected(provider, "mcp");
  assert.equal(
    textOf(await afterRestart.callTool({ name: "echo", arguments: { text: "again" } })),
    "echo: again",
  );
  await afterRestart.close();
  assert.equal(await auth(provider, { serverUrl: `${remote.serverUrl}/mcp` }), "AUTHORIZED");
  assert.notEqual(provider.tokens()!.access_token, refreshed.access_token);
  const sseAfterRestart = await connected(provider, "sse");
  assert.equal(
    textOf(await sseAfterRestart.callTool({ name: "echo", arguments: { text: "sse" } })),
    "echo: sse",
  );
  await sseAfterRestart.close();

  // No browser was needed after the first approval.
  assert.equal(provider.authorizationUrls.length, 1);
  // Logs never contain tokens.
  const logText = remote.logs.join("\n");
  for (const secret of [firstTokens.access_token, firstTokens.refresh_token, refreshed.access_token]) {
    assert.ok(secret && !logText.includes(secret));
  }
});

test("restart: what is sent right after it goes over fresh connections (20 restarts)", async () => {
  // Keep-alive connections to the old server sit in fetch's pool at every restart; without waiting for
  // them to close, the first request after a restart was written to a dead socket ("other side closed").
  for (let i = 0; i < 20; i++) {
    const before = await Promise.all([1, 2, 3].map(() => fetch(`${remote.serverUrl}/health`)));
    await Promise.all(before.map((res) => res.text()));
    await remote.restart();
    const after = await fetch(`${remote.serverUrl}/health`);
    assert.equal(after.status, 200, `restart ${i + 1}`);
    await after.text();
  }
});

test("owner grants read-only in the browser: send tool refused with 403 insufficient_scope", async () => {
  const provider = new TestOAuthClientProvider(
    receiver.redirectUrl,
    (authorizationUrl) =>
      consentInBrowser(browser, authorizationUrl, { password: OWNER_PASSWORD, access: "read" }),
    "Read Only Client",
  );
  await authorizeInteractively(provider, "sse");
  const tokens = provider.tokens()!;
  assert.equal(tokens.scope, "messages:read");

  // Without an authProvider the SDK client just reports the 403 (with one it would start a step-up flow).
  const headers = { Authorization: `Bearer ${tokens.access_token}` };
  const client = new Client({ name: "ro", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${remote.serverUrl}/mcp`), { requestInit: { headers } }),
  );
  assert.equal(textOf(await client.callTool({ name: "echo", arguments: { text: "ok" } })), "echo: ok");
  await assert.rejects(
    client.callTool({ name: SEND_TOOL, arguments: { to: "x", text: "y" } }),
    /403|insufficient/i,
  );
  await client.close();

  const raw = await fetch(`${remote.serverUrl}/mcp`, {
    method: "POST",
    headers: {
      ...headers,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: SEND_TOOL, arguments: {} },
    }),
  });
  assert.equal(raw.status, 403);
  assert.match(raw.headers.get("www-authenticate") ?? "", /error="insufficient_scope"/);
  assert.match(
    raw.headers.get("www-authenticate") ?? "",
    /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/,
  );
  assert.equal(((await raw.json()) as { error: string }).error, "insufficient_scope");
});

test("Deny in the browser redirects back with access_denied", async () => {
  const provider = new TestOAuthClientProvider(
    receiver.redirectUrl,
    (authorizationUrl) =>
      consentInBrowser(browser, authorizationUrl, { password: "", access: "read", decision: "deny" }),
    "Denied Client",
  );
  const transport = new StreamableHTTPClientTransport(new URL(`${remote.serverUrl}/mcp`), {
    authProvider: provider,
  });
  await assert.rejects(new Client({ name: "d", version: "1" }).connect(transport), UnauthorizedError);
  await provider.consentDone;
  const redirect = await receiver.next();
  assert.equal(redirect.get("error"), "access_denied");
  assert.equal(redirect.get("code"), null);
  await transport.close();
});
