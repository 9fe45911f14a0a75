// An MCP client that connects to a remote-mode server the way Claude Code does: discovery,
// dynamic registration, PKCE authorization (the owner approves on the real consent page,
// driven here over HTTP instead of a browser), token exchange, then MCP calls.
//
// Meant to run as its own process: the test that spawns it sets NODE_EXTRA_CA_CERTS (read
// only at start-up) so the global fetch trusts a test CA such as Caddy's internal one.
//
//   node --import tsx test/helpers/oauth-mcp-client.ts <serverUrl> <ownerPassword>
//
// It reports on stdout, one JSON object per line:
//   {"event":"progress","transport":"..."}  a progress notification arrived (the test may react)
//   {"event":"done", ...results}            or {"event":"error","message":"..."}

import type { Transport } from "@modelcontextprotocol/client";
import {
  Client,
  SSEClientTransport,
  StreamableHTTPClientTransport,
  UnauthorizedError,
} from "@modelcontextprotocol/client";
import { TestOAuthClientProvider } from "./remote-oauth-client.js";
import { openConsentPage, submitConsent } from "./remote-oauth-http.js";

/** Never contacted: the authorization code is read from the consent page's redirect. */
const REDIRECT_URL = "http://127.0.0.1:9/callback";

function report(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/** Plays the owner: opens the consent page, types the owner password, approves read + send. */
async function approveOnConsentPage(authorizationUrl: URL, ownerPassword: string): Promise<URLSearchParams> {
  const page = await openConsentPage(authorizationUrl.href);
  if (page.status !== 200)
    throw new Error(`GET /authorize answered ${page.status}: ${page.html.slice(0, 300)}`);
  const answer = await submitConsent(authorizationUrl.origin, page, {
    password: ownerPassword,
    access: "read_send",
    decision: "approve",
  });
  const location = answer.headers.get("location");
  if (answer.status !== 302 || !location) {
    throw new Error(`POST /consent answered ${answer.status}: ${(await answer.text()).slice(0, 300)}`);
  }
  const callback = new URL(location).searchParams;
  if (!callback.get("code")) throw new Error(`consent redirect carries no code: ${location}`);
  // The whole callback goes to finishAuth: the client checks its `iss` (RFC 9207) as a real client would.
  return callback;
}

/** Connects; on the first 401 completes the authorization-code flow and connects again. */
async function connectWithOAuth(
  provider: TestOAuthClientProvider,
  codes: URLSearchParams[],
  makeTransport: () => Transport & { finishAuth(callback: URLSearchParams): Promise<void> },
): Promise<Client> {
  const client = new Client({ name: "caddy-e2e", version: "1.0.0" });
  const transport = makeTransport();
  try {
    await client.connect(transport);
    return client;
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
  }
  await provider.consentDone;
  const code = codes.shift();
  if (code === undefined)
    throw new Error("the server refused the client, but no authorization code was obtained");
  await transport.finishAuth(code);
  const authorized = new Client({ name: "caddy-e2e", version: "1.0.0" });
  await authorized.connect(makeTransport());
  return authorized;
}

async function callWaitingTool(client: Client, transport: string) {
  const result = await client.callTool(
    { name: "wait_for_release", arguments: { transport } },
    {
      onprogress: () => report({ event: "progress", transport }),
      timeout: 60_000,
    },
  );
  const first = (result.content as Array<{ type: string; text?: string }>)[0];
  return first?.text ?? "";
}

async function main(): Promise<void> {
  const [serverUrl, ownerPassword] = process.argv.slice(2);
  if (!serverUrl || !ownerPassword) throw new Error("usage: oauth-mcp-client.ts <serverUrl> <ownerPassword>");
  const codes: URLSearchParams[] = [];
  const provider = new TestOAuthClientProvider(
    REDIRECT_URL,
    async (authorizationUrl) => {
      codes.push(await approveOnConsentPage(authorizationUrl, ownerPassword));
    },
    "caddy e2e test client",
  );

  const streamable = await connectWithOAuth(
    provider,
    codes,
    () => new StreamableHTTPClientTransport(new URL("/mcp", serverUrl), { authProvider: provider }),
  );
  const tools = (await streamable.listTools()).tools.map((tool) => tool.name);
  const streamableResult = await callWaitingTool(streamable, "streamable-http");
  await streamable.close();

  const sse = await connectWithOAuth(
    provider,
    codes,
    () => new SSEClientTransport(new URL("/sse", serverUrl), { authProvider: provider }),
  );
  const sseResult = await callWaitingTool(sse, "sse");
  await sse.close();

  report({
    event: "done",
    tools,
    streamableResult,
    sseResult,
    consentCount: provider.authorizationUrls.length,
    grantedScope: provider.tokens()?.scope ?? null,
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    report({
      event: "error",
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    process.exit(1);
  },
);
