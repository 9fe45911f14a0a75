// Remote mode with the REAL server: startRemoteServer over the full createMcpServer (demo data, Contacts,
// the sender pointed at the fake osascript, the scheduler), OAuth tokens from the owner's consent form
// over plain HTTP, and the official SDK client over Streamable HTTP (/mcp) and legacy SSE (/sse).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { CallToolResult } from "@modelcontextprotocol/client";
import {
  Client,
  InsufficientScopeError,
  SSEClientTransport,
  StreamableHTTPClientTransport,
} from "@modelcontextprotocol/client";
import { ContactsStore } from "../../src/contacts/index.js";
import { ensureDemoData } from "../../src/demo/index.js";
import type { MessageView } from "../../src/mcp/format.js";
import { createMcpServer, READ_TOOL_NAMES, SEND_TOOL_NAMES } from "../../src/mcp/index.js";
import { type MessagesStore, openMessagesStore } from "../../src/messages/index.js";
import { MessageSender } from "../../src/send/index.js";
import { MessageScheduler } from "../../src/send/scheduler.js";
import { type FakeOsascript, installFakeOsascript } from "../helpers/fake-osascript.js";
import { makeStateDir, startTestRemote, type TestRemote } from "../helpers/remote-fixtures.js";
import {
  approvedCode,
  pkcePair,
  postToken,
  registerClient,
  TEST_REDIRECT,
} from "../helpers/remote-oauth-http.js";
import { mcpHeaders, readMcpAnswer } from "../helpers/security-remote.js";

const RECIPIENT = "+15550142077";

/**
 * The 403 insufficient_scope answer as each client transport reports it: the Streamable HTTP client runs its
 * step-up flow and, with nothing more to ask for, throws InsufficientScopeError naming the scope it needs;
 * the SSE client reports the plain HTTP 403.
 */
const isForbidden = (error: Error & { code?: number; requiredScope?: string }) =>
  (error instanceof InsufficientScopeError && /messages:send/.test(error.requiredScope ?? "")) ||
  error.code === 403 ||
  /\bHTTP 403\b/.test(error.message);

let state: { dir: string; cleanup(): void };
let dataDir: string;
let fake: FakeOsascript;
let messages: MessagesStore;
let scheduler: MessageScheduler;
let remote: TestRemote;
let readSendToken: string;
let readOnlyToken: string;
const transportsSeen: string[] = [];

/** A full grant over HTTP: the owner approves `scope` on the consent form, the code is exchanged. */
async function grant(scope: string): Promise<{ token: string; scope: string }> {
  const clientId = await registerClient(remote.serverUrl);
  const { verifier, challenge } = pkcePair();
  const code = await approvedCode(remote.serverUrl, clientId, challenge, { scope });
  const res = await postToken(remote.serverUrl, {
    grant_type: "authorization_code",
    client_id: clientId,
    code,
    code_verifier: verifier,
    redirect_uri: TEST_REDIRECT,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { token: res.body.access_token ?? "", scope: res.body.scope ?? "" };
}

async function connectClient(
  path: "/mcp" | "/sse",
  token: string,
  era: "legacy" | "modern" = "legacy",
): Promise<Client> {
  const url = new URL(`${remote.serverUrl}${path}`);
  const requestInit = { headers: { authorization: `Bearer ${token}` } };
  const transport =
    path === "/mcp"
      ? new StreamableHTTPClientTransport(url, { requestInit })
      : new SSEClientTransport(url, { requestInit });
  const client = new Client(
    { name: "remote-real-test", version: "1.0.0" },
    era === "modern" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : {},
  );
  await client.connect(transport);
  return client;
}

async function callTool(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
  return { result, text, data: (result.structuredContent ?? {}) as Record<string, unknown> };
}

before(async () => {
  state = await makeStateDir();
  dataDir = mkdtempSync(join(tmpdir(), "remote-real-data-"));
  const demo = ensureDemoData({ dir: join(dataDir, "demo") });
  fake = await installFakeOsascript();
  messages = openMessagesStore(demo.chatDb);
  const contacts = ContactsStore.open({ roots: [demo.contactsRoot] });
  const sender = new MessageSender({ env: fake.env, timeoutMs: 20_000 });
  scheduler = new MessageScheduler({ stateDir: join(dataDir, "state"), sender });
  remote = await startTestRemote(state.dir, {
    // As src/cli/main.ts wires it: one set of stores and one scheduler for every session.
    createMcpServer: (auth, context) => {
      transportsSeen.push(context.transport);
      return createMcpServer(
        {
          messages,
          contacts,
          sender,
          scheduler,
          demo: true,
          subscriptions: context.transport !== "streamable-http",
        },
        { permissions: auth.permissions },
      );
    },
    sendToolNames: SEND_TOOL_NAMES,
  });
  const both = await grant("messages:read messages:send");
  assert.equal(both.scope, "messages:read messages:send");
  readSendToken = both.token;
  const readOnly = await grant("messages:read");
  assert.equal(readOnly.scope, "messages:read");
  readOnlyToken = readOnly.token;
});

after(async () => {
  await remote?.close();
  await scheduler?.stop();
  messages?.close();
  await fake?.cleanup();
  state?.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test("a 2026-07-28 client is served on the same /mcp endpoint; the send scope still applies", async () => {
  const client = await connectClient("/mcp", readOnlyToken, "modern");
  try {
    assert.equal(client.getProtocolEra(), "modern");
    const { tools } = await client.listTools();
    for (const name of READ_TOOL_NAMES)
      assert.ok(
        tools.some((t) => t.name === name),
        name,
      );
    const chats = await callTool(client, "list_chats", { limit: 3 });
    assert.equal(chats.result.isError, undefined, chats.text);
    assert.match(chats.text, /chat:\d+/);
    const before = (await fake.calls()).length;
    await assert.rejects(
      client.callTool({ name: "send_message", arguments: { recipient: RECIPIENT, text: "hi" } }),
      isForbidden,
    );
    assert.equal((await fake.calls()).length, before, "nothing reached osascript");
  } finally {
    await client.close();
  }
});

for (const path of ["/mcp", "/sse"] as const) {
  describe(`real tools over ${path}`, () => {
    test("list_chats, get_recent_messages and search_messages answer from the demo data", async () => {
      const client = await connectClient(path, readOnlyToken);
      try {
        assert.match(client.getInstructions() ?? "", /DEMO data/);
        const { tools } = await client.listTools();
        const names = tools.map((t) => t.name);
        for (const name of READ_TOOL_NAMES) assert.ok(names.includes(name), name);
        for (const name of SEND_TOOL_NAMES)
          assert.ok(!names.includes(name), `${name} listed to a read-only token`);
        assert.equal(
          client.getServerCapabilities()?.resources?.subscribe === true,
          path === "/sse",
          "subscriptions only where the session outlives the request",
        );

        const chats = await callTool(client, "list_chats", { limit: 5, format: "json" });
        assert.equal(chats.result.isError, undefined, chats.text);
        assert.equal((chats.data.chats as unknown[]).length, 5);

        const recent = await callTool(client, "get_recent_messages", { hours: 48, limit: 20 });
        assert.equal(recent.result.isError, undefined, recent.text);
        assert.match(recent.text, /<untrusted-message-content>/);
        assert.equal(recent.result.structuredContent, undefined, "the model's text only, in every client");
        const recentJson = await callTool(client, "get_recent_messages", {
          hours: 48,
          limit: 20,
          format: "json",
        });
        const recentMessages = recentJson.data.messages as MessageView[];
        assert.ok(recentMessages.length > 0, "the demo has messages from the last two days");

        const word = recentMessages
          .flatMap((m) => (m.text ?? "").split(/\s+/))
          .find((w) => /^[a-z]{6,}$/i.test(w));
        assert.ok(word, "a word to search for");
        const found = await callTool(client, "search_messages", { query: word, limit: 5, format: "json" });
        assert.equal(found.result.isError, undefined, found.text);
        const hits = found.data.messages as MessageView[];
        assert.ok(hits.length > 0);
        for (const hit of hits) assert.match(hit.text ?? "", new RegExp(word, "i"));
      } finally {
        await client.close();
      }
    });

    test("a read-only grant is refused send_message and schedule_message with 403 insufficient_scope", async () => {
      const client = await connectClient(path, readOnlyToken);
      try {
        const before = (await fake.calls()).length;
        await assert.rejects(
          client.callTool({ name: "send_message", arguments: { recipient: RECIPIENT, text: "hi" } }),
          isForbidden,
        );
        await assert.rejects(
          client.callTool({
            name: "schedule_message",
            arguments: {
              recipient: RECIPIENT,
              text: "hi",
              send_at: new Date(Date.now() + 3_600_000).toISOString(),
            },
          }),
          isForbidden,
        );
        assert.equal((await fake.calls()).length, before, "nothing reached osascript");
        assert.deepEqual(await scheduler.list(), [], "nothing was scheduled");
      } finally {
        await client.close();
      }
    });

    test("a read+send grant sends through the fake osascript", async () => {
      const client = await connectClient(path, readSendToken);
      try {
        const names = (await client.listTools()).tools.map((t) => t.name);
        for (const name of SEND_TOOL_NAMES) assert.ok(names.includes(name), `${name} missing for read+send`);
        const text = `Hello over ${path}`;
        const sent = await callTool(client, "send_message", { recipient: RECIPIENT, text, format: "json" });
        assert.equal(sent.result.isError, undefined, sent.text);
        assert.equal(sent.data.sent, true);
        const last = (await fake.calls()).at(-1);
        assert.deepEqual(last?.runArgs, [RECIPIENT, text]);
      } finally {
        await client.close();
      }
    });
  });
}

test("the raw 403 names the tool and the missing scope, for each send-scope tool", async () => {
  for (const name of SEND_TOOL_NAMES) {
    const res = await fetch(`${remote.serverUrl}/mcp`, {
      method: "POST",
      headers: mcpHeaders(readOnlyToken),
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: {} } }),
    });
    const answer = await readMcpAnswer(res);
    assert.equal(answer.status, 403, name);
    assert.deepEqual(answer.json, {
      error: "insufficient_scope",
      error_description: `The ${name} tool needs the messages:send scope`,
    });
    assert.match(res.headers.get("www-authenticate") ?? "", /error="insufficient_scope"/);
  }
  assert.ok(transportsSeen.includes("streamable-http") && transportsSeen.includes("sse"));
});
