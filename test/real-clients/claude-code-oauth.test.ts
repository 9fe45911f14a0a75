// Remote mode as a Claude Code user connects to it: `claude mcp add --transport http` → `claude mcp list`
// says it needs authentication → `claude mcp login` (on a pseudo-terminal, as Claude Code refuses to log in
// without one) with the owner approving on the consent page in Chromium → `claude mcp list` shows it
// connected → a tool call in print mode works with the stored token → `claude mcp logout` revokes the
// tokens at the server, not just locally.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { type ClaudeCli, startClaudeCli } from "../helpers/claude-code.js";
import { authorizationUrlIn } from "../helpers/pseudo-terminal.js";
import { realClientsOrSkip } from "../helpers/real-clients.js";
import { OWNER_PASSWORD } from "../helpers/remote-fixtures.js";
import { consentInBrowser, launchChromium } from "../helpers/remote-oauth-client.js";
import { postToken } from "../helpers/remote-oauth-http.js";
import { buildRealClientFixture, type RealClientFixture } from "./fixture.js";
import { type RemoteCli, startRemoteCli } from "./our-server.js";

const { clients, skip } = realClientsOrSkip();
const TIMEOUT = 300_000;

/** What `claude mcp login` stored (Claude Code keeps MCP OAuth tokens in its credentials file). */
interface StoredOAuth {
  accessToken: string;
  refreshToken?: string;
  clientId: string;
  scope?: string;
}

function storedOAuth(cli: ClaudeCli): StoredOAuth[] {
  const file = join(cli.sandbox.env.CLAUDE_CONFIG_DIR!, ".credentials.json");
  const credentials = JSON.parse(readFileSync(file, "utf8")) as { mcpOAuth?: Record<string, StoredOAuth> };
  return Object.values(credentials.mcpOAuth ?? {});
}

/** Whether `token` still opens /mcp (200) or is refused (401). */
async function mcpStatus(remote: RemoteCli, token: string): Promise<number> {
  const res = await fetch(remote.mcpUrl, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: "2025-06-18",
        capabilities: {},
        clientInfo: { name: "probe", version: "1" },
      },
    }),
  });
  await res.body?.cancel();
  return res.status;
}

describe("Claude Code: mcp add → list → login (Chromium consent) → list → logout", {
  skip,
  timeout: TIMEOUT * 3,
}, () => {
  let fixture: RealClientFixture;
  let remote: RemoteCli;
  let browser: Browser;
  before(async () => {
    fixture = buildRealClientFixture();
    remote = await startRemoteCli(fixture.dataArgs);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await remote?.close();
    fixture?.cleanup();
  });

  // Streamable HTTP, and the legacy SSE endpoint the user guide's Claude Code config points at.
  const transports = [
    { transport: "http", path: "/mcp", label: "HTTP" },
    { transport: "sse", path: "/sse", label: "SSE" },
  ];
  for (const { transport, path, label } of transports) {
    test(`the whole OAuth life cycle over ${path}`, { timeout: TIMEOUT }, async () => {
      const cli = await startClaudeCli(clients!);
      try {
        await oauthLifeCycle(cli, remote, browser, transport, `${remote.serverUrl}${path}`, label);
      } finally {
        await cli.close();
      }
    });
  }
});

async function oauthLifeCycle(
  cli: ClaudeCli,
  remote: RemoteCli,
  browser: Browser,
  transport: string,
  url: string,
  label: string,
): Promise<void> {
  const added = await cli.run(["mcp", "add", "--scope", "user", "--transport", transport, "messages", url]);
  assert.equal(added.code, 0, added.stderr);
  const listed = new RegExp(`messages: ${url.replaceAll(".", "\\.")} \\(${label}\\) - `);

  const before = await cli.run(["mcp", "list"]);
  assert.equal(before.code, 0, before.stderr);
  assert.match(before.stdout, new RegExp(`${listed.source}.*Needs authentication`));

  // Claude Code registers itself, prints the authorization URL (its "browser" is disabled) and waits for
  // the redirect to its loopback callback; the owner approves in Chromium.
  let consent: Promise<void> | undefined;
  const login = await cli.runInTerminal(["mcp", "login", "messages"], (soFar) => {
    const url = authorizationUrlIn(soFar, remote.serverUrl);
    if (consent === undefined && url) {
      consent = consentInBrowser(browser, url, { password: OWNER_PASSWORD, access: "read_send" });
      consent.catch(() => {}); // awaited below; a failure must not count as unhandled meanwhile
    }
  });
  assert.ok(consent, `Claude Code printed no authorization URL:\n${login.stdout}\n${login.stderr}`);
  await consent;
  assert.equal(login.code, 0, `${login.stdout}\n${login.stderr}`);
  assert.match(login.stdout, /Authenticated with "messages"/);

  const [stored] = storedOAuth(cli);
  assert.ok(stored?.accessToken && stored.refreshToken, "Claude Code stored no tokens");
  assert.equal(stored.scope, "messages:read messages:send");
  assert.equal(await mcpStatus(remote, stored.accessToken), 200);

  const connected = await cli.run(["mcp", "list"]);
  assert.equal(connected.code, 0, connected.stderr);
  assert.match(connected.stdout, new RegExp(`${listed.source}✔ Connected`));

  const logout = await cli.run(["mcp", "logout", "messages"]);
  assert.equal(logout.code, 0, logout.stderr);
  assert.deepEqual(storedOAuth(cli), [], "tokens left in Claude Code's store after logout");
  // Revoked at the server, not merely forgotten: the access token is refused and the refresh token dead.
  assert.equal(await mcpStatus(remote, stored.accessToken), 401);
  const refresh = await postToken(remote.serverUrl, {
    grant_type: "refresh_token",
    refresh_token: stored.refreshToken,
    client_id: stored.clientId,
  });
  assert.equal(refresh.status, 400);
  assert.equal(refresh.body.error, "invalid_grant");

  const afterLogout = await cli.run(["mcp", "list"]);
  assert.match(afterLogout.stdout, new RegExp(`${listed.source}.*Needs authentication`));
}
