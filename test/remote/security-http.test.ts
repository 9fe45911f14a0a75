// Bad input on every HTTP endpoint of the real remote server, serving the real MCP tools over a real
// chat.db: each gets a clear 4xx or a JSON-RPC error, never a 500 or a stack trace, and the server keeps
// serving afterwards. Hostile strings are data all the way down (SQL, LIKE wildcards, AppleScript).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type GrantedTokens, obtainTokens } from "../helpers/remote-oauth-http.js";
import {
  LITERAL_TEXTS,
  mcpHeaders,
  PEER,
  type RealRemote,
  readMcpAnswer,
  STACK_TRACE,
  startRealRemote,
} from "../helpers/security-remote.js";

let real: RealRemote;
let tokens: GrantedTokens;

before(async () => {
  real = await startRealRemote();
  tokens = await obtainTokens(real.serverUrl);
});
after(async () => {
  await real?.close();
});

/** Every answer: below 500 and without internals. Returns the body text for further checks. */
async function expectClean(res: Response, what: string): Promise<string> {
  const text = await res.text();
  assert.ok(res.status < 500, `${what}: status ${res.status} ${text.slice(0, 300)}`);
  assert.doesNotMatch(text, STACK_TRACE, `${what}: leaks internals: ${text.slice(0, 300)}`);
  return text;
}

async function postMcp(body: string, headers: Record<string, string> = mcpHeaders(tokens.access_token)) {
  return await fetch(`${real.serverUrl}/mcp`, { method: "POST", headers, body });
}

async function callTool(name: string, args: unknown) {
  const res = await postMcp(
    JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name, arguments: args } }),
  );
  const answer = await readMcpAnswer(res);
  assert.ok(answer.status < 500, answer.text.slice(0, 300));
  assert.doesNotMatch(answer.text, STACK_TRACE);
  return answer as { status: number; text: string; json: ToolAnswer };
}

interface ToolAnswer {
  result?: {
    isError?: boolean;
    content: { type: string; text: string }[];
    structuredContent?: { messages?: { text: string | null }[] };
  };
  error?: { code: number; message: string };
}

function toolText(answer: ToolAnswer): string {
  return answer.result?.content.map((c) => c.text).join("\n") ?? answer.error?.message ?? "";
}

async function searchTexts(query: string): Promise<string[]> {
  const { json } = await callTool("search_messages", { query, mode: "substring", format: "json" });
  assert.equal(json.result?.isError, undefined, toolText(json));
  return (json.result?.structuredContent?.messages ?? []).map((m) => m.text ?? "");
}

async function assertStillServing(): Promise<void> {
  const health = await fetch(`${real.serverUrl}/health`);
  assert.equal(health.status, 200);
  const list = await readMcpAnswer(
    await postMcp(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })),
  );
  assert.equal(list.status, 200);
  assert.ok((list.json as { result: { tools: unknown[] } }).result.tools.length > 3);
}

test("body limit: oversized JSON is refused with 413 on /mcp, /messages, /token, /register and /consent", async () => {
  const huge = JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "ping",
    params: { pad: "x".repeat(5 << 20) },
  });
  const mcp = await postMcp(huge);
  assert.equal(mcp.status, 413);
  await expectClean(mcp, "/mcp 5 MB");
  const messages = await fetch(`${real.serverUrl}/messages?sessionId=x`, {
    method: "POST",
    headers: mcpHeaders(tokens.access_token),
    body: huge,
  });
  assert.equal(messages.status, 413);
  await expectClean(messages, "/messages 5 MB");
  const bigForm = `grant_type=authorization_code&code=${"c".repeat(2 << 20)}`;
  for (const path of ["/token", "/consent"]) {
    const res = await fetch(`${real.serverUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: bigForm,
    });
    assert.equal(res.status, 413, path);
    await expectClean(res, `${path} 2 MB`);
  }
  const register = await fetch(`${real.serverUrl}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ redirect_uris: ["http://127.0.0.1/cb"], client_name: "n".repeat(2 << 20) }),
  });
  assert.equal(register.status, 413);
  await expectClean(register, "/register 2 MB");
  // Without a token the body is never read: the answer is 401, not a parse of 5 MB.
  const anonymous = await postMcp(huge, { "content-type": "application/json" });
  assert.equal(anonymous.status, 401);
  await assertStillServing();
});

test("wrong content types and Accept headers get 4xx, not 500", async () => {
  const ping = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" });
  const cases: [string, Record<string, string>][] = [
    ["text/plain", { ...mcpHeaders(tokens.access_token), "content-type": "text/plain" }],
    ["form", { ...mcpHeaders(tokens.access_token), "content-type": "application/x-www-form-urlencoded" }],
    ["no content type", { authorization: `Bearer ${tokens.access_token}`, accept: "application/json" }],
    ["accept html only", { ...mcpHeaders(tokens.access_token), accept: "text/html" }],
    ["xml", { ...mcpHeaders(tokens.access_token), "content-type": "application/xml" }],
  ];
  for (const [what, headers] of cases) {
    const res = await postMcp(ping, headers);
    assert.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status}`);
    await expectClean(res, what);
  }
  const jsonToken = await fetch(`${real.serverUrl}/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ grant_type: "authorization_code", code: "x" }),
  });
  assert.equal(jsonToken.status, 400);
  await expectClean(jsonToken, "/token with JSON");
  const formRegister = await fetch(`${real.serverUrl}/register`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "redirect_uris=http://127.0.0.1/cb",
  });
  assert.equal(formRegister.status, 400);
  await expectClean(formRegister, "/register with a form");
  const jsonConsent = await fetch(`${real.serverUrl}/consent`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ request_id: "x", decision: "approve" }),
  });
  assert.equal(jsonConsent.status, 400);
  await expectClean(jsonConsent, "/consent with JSON");
  await assertStillServing();
});

test("invalid JSON-RPC (shapes, versions, batches) gets a JSON-RPC error or 4xx", async () => {
  const bodies = [
    "{not json",
    "",
    "null",
    '"just a string"',
    "42",
    "{}",
    "[]",
    "[1, 2, 3]",
    '{"jsonrpc":"1.0","id":1,"method":"ping"}',
    '{"jsonrpc":"2.0","id":{"nested":true},"method":"ping"}',
    '{"jsonrpc":"2.0","id":1,"method":42}',
    '{"jsonrpc":"2.0","id":1}',
    '{"jsonrpc":"2.0","id":1,"method":"no/such/method"}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"not an object"}',
    '[{"jsonrpc":"2.0","id":1,"method":"ping"},{"broken":true}]',
    JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "ping" }))),
    '{"__proto__":{"polluted":true},"jsonrpc":"2.0","id":1,"method":"ping"}',
  ];
  for (const body of bodies) {
    const answer = await readMcpAnswer(await postMcp(body));
    assert.ok(answer.status < 500, `${body.slice(0, 60)}: ${answer.status} ${answer.text.slice(0, 200)}`);
    assert.doesNotMatch(answer.text, STACK_TRACE, body.slice(0, 60));
    if (answer.status === 200) {
      // A 200 must carry a JSON-RPC response (a result for valid requests, errors for the rest).
      assert.ok(answer.json !== undefined, `${body.slice(0, 60)}: 200 without JSON-RPC: ${answer.text}`);
    }
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined, "no prototype pollution");
  const unknown = await readMcpAnswer(await postMcp('{"jsonrpc":"2.0","id":1,"method":"no/such/method"}'));
  assert.equal((unknown.json as ToolAnswer).error?.code, -32601);
  await assertStillServing();
});

test("unknown tools and arguments of the wrong type or absurd size are JSON-RPC/tool errors", async () => {
  const unknown = await callTool("drop_all_tables", {});
  assert.ok(unknown.json.error || unknown.json.result?.isError, unknown.text);
  assert.match(toolText(unknown.json), /drop_all_tables|not found|unknown/i);

  const wrongTypes: [string, unknown][] = [
    ["search_messages", { query: 42 }],
    ["search_messages", { query: ["a"] }],
    ["search_messages", { query: "x", limit: "ten" }],
    ["search_messages", { query: "x", limit: -5 }],
    ["search_messages", { query: "x", limit: 1e308 }],
    ["search_messages", {}],
    ["search_messages", null],
    ["get_recent_messages", { hours: "yesterday" }],
    ["get_recent_messages", { hours: -1 }],
    ["list_chats", { limit: { $gt: 0 } }],
    ["send_message", { recipient: PEER }],
    ["send_message", { recipient: 5, text: true }],
    ["search_messages", { query: "x".repeat(1 << 20) }],
    ["send_message", { recipient: PEER, text: "y".repeat(1 << 20) }],
    ["send_message", { recipient: "r".repeat(1 << 20), text: "hi" }],
  ];
  for (const [name, args] of wrongTypes) {
    const { json, text } = await callTool(name, args);
    assert.ok(json.error || json.result?.isError, `${name} ${JSON.stringify(args).slice(0, 80)}: ${text}`);
  }
  assert.equal((await real.fake.calls()).length, 0, "no invalid send reached osascript");
  await assertStillServing();
});

test("hostile strings are data: LIKE wildcards, SQL, NUL, 1 MB, AppleScript metacharacters", async () => {
  assert.deepEqual(await searchTexts("50%"), [LITERAL_TEXTS.percent]);
  assert.deepEqual(await searchTexts("a_b"), [LITERAL_TEXTS.underscore]);
  assert.deepEqual(await searchTexts(`"hi"; DROP TABLE message;--`), [LITERAL_TEXTS.sql]);
  assert.deepEqual(await searchTexts("O'Reilly"), [LITERAL_TEXTS.sql]);
  assert.deepEqual(await searchTexts("' OR 1=1 --"), []);
  assert.deepEqual(await searchTexts("%"), [LITERAL_TEXTS.percent]);
  assert.deepEqual(await searchTexts("_"), [LITERAL_TEXTS.underscore]);
  for (const query of ["\u0000", "a\u0000b", "\\", "'", '"', "*", "?", "[a-z]", "\uD800", "ℌ".repeat(400)]) {
    const { json } = await callTool("search_messages", { query, mode: "substring", format: "json" });
    // Either "nothing found" or a clear input error; the table is still there afterwards.
    assert.ok(json.result !== undefined || json.error !== undefined);
  }
  for (const contact of ["'; DROP TABLE handle;--", "%", "_", "\u0000", "contact:../../etc/passwd"]) {
    const { json } = await callTool("get_recent_messages", { contact, hours: 24 });
    assert.ok(json.result?.isError || json.error, `${contact}: ${toolText(json)}`);
  }
  assert.equal((await searchTexts("Spring sale")).length, 2, "the message table is intact");

  // AppleScript metacharacters reach osascript as one argv element, never as script source.
  const sent = await callTool("send_message", { recipient: PEER, text: LITERAL_TEXTS.applescript });
  assert.equal(sent.json.result?.isError, undefined, toolText(sent.json));
  const calls = await real.fake.calls();
  assert.equal(calls.length, 1);
  const call = calls[0]!;
  assert.ok(call.runArgs.includes(LITERAL_TEXTS.applescript), JSON.stringify(call.runArgs));
  assert.ok(!call.program.includes("pwned"), "the text never becomes part of the script");
  await assertStillServing();
});

test("OAuth endpoints: malformed parameters get 4xx with an OAuth error, never 500", async () => {
  const forms: [string, Record<string, string>][] = [
    ["/token", {}],
    ["/token", { grant_type: "password", username: "a", password: "b" }],
    ["/token", { grant_type: "authorization_code", client_id: tokens.clientId }],
    ["/token", { grant_type: "authorization_code", client_id: "nope", code: "x", code_verifier: "y" }],
    ["/token", { grant_type: "refresh_token", client_id: tokens.clientId, refresh_token: "\u0000" }],
    ["/revoke", {}],
    ["/revoke", { client_id: tokens.clientId }],
    ["/consent", {}],
    ["/consent", { request_id: "%00", csrf_token: "'", decision: "approve", owner_password: "x" }],
  ];
  for (const [path, params] of forms) {
    const res = await fetch(`${real.serverUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(params),
    });
    assert.ok(res.status >= 400 && res.status < 500, `${path} ${JSON.stringify(params)}: ${res.status}`);
    await expectClean(res, path);
  }
  const registrations = [
    "{broken",
    "[]",
    JSON.stringify({ redirect_uris: "http://127.0.0.1/cb" }),
    JSON.stringify({ redirect_uris: [42] }),
    JSON.stringify({ redirect_uris: ["file:///etc/passwd"] }),
    JSON.stringify({ redirect_uris: ["http://127.0.0.1/cb"], grant_types: { a: 1 } }),
  ];
  for (const body of registrations) {
    const res = await fetch(`${real.serverUrl}/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    assert.equal(res.status, 400, body);
    await expectClean(res, `/register ${body}`);
  }
  for (const query of ["", "?client_id=nope", `?client_id=${tokens.clientId}&response_type=token`, "?%zz"]) {
    const res = await fetch(`${real.serverUrl}/authorize${query}`, { redirect: "manual" });
    assert.ok(res.status >= 300 && res.status < 500, `${query}: ${res.status}`);
    await expectClean(res, `/authorize${query}`);
  }
  for (const [method, path] of [
    ["PUT", "/token"],
    ["DELETE", "/register"],
    ["GET", "/consent"],
    ["PATCH", "/mcp"],
    ["GET", "/../../etc/passwd"],
    ["GET", "/%2e%2e/%2e%2e/etc/passwd"],
  ] as const) {
    const res = await fetch(`${real.serverUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.ok(res.status >= 400 && res.status < 500, `${method} ${path}: ${res.status}`);
    const body = await expectClean(res, `${method} ${path}`);
    assert.doesNotMatch(body, /root:/);
  }
  await assertStillServing();
});

test("SSE /messages: garbage on a live session is refused and the session keeps working", async () => {
  const controller = new AbortController();
  const stream = await fetch(`${real.serverUrl}/sse`, {
    headers: { authorization: `Bearer ${tokens.access_token}`, accept: "text/event-stream" },
    signal: controller.signal,
  });
  assert.equal(stream.status, 200);
  const reader = stream.body!.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const readUntil = async (pattern: RegExp) => {
    while (!pattern.test(seen)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before ${pattern}: ${seen}`);
      seen += decoder.decode(value);
    }
  };
  try {
    await readUntil(/data: (\/messages\?sessionId=[0-9a-f-]+)/);
    const endpoint = /data: (\/messages\?sessionId=[0-9a-f-]+)/.exec(seen)![1]!;
    for (const body of ["{oops", "[]", "null", '{"jsonrpc":"2.0"}', '"x"']) {
      const res = await fetch(`${real.serverUrl}${endpoint}`, {
        method: "POST",
        headers: mcpHeaders(tokens.access_token),
        body,
      });
      assert.ok(res.status >= 400 && res.status < 500, `${body}: ${res.status}`);
      await expectClean(res, `/messages ${body}`);
    }
    const ok = await fetch(`${real.serverUrl}${endpoint}`, {
      method: "POST",
      headers: mcpHeaders(tokens.access_token),
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2024-11-05", capabilities: {}, clientInfo: { name: "t", version: "1" } },
      }),
    });
    assert.equal(ok.status, 202);
    await ok.arrayBuffer();
    await readUntil(/"serverInfo"/);
  } finally {
    controller.abort();
    await reader.cancel().catch(() => {});
  }
});

test("no request in this file produced a 5xx or an error log line", () => {
  const serverErrors = real.remote.logs.filter((line) => / 5\d\d \d+ms/.test(line) || / ERROR /.test(line));
  assert.deepEqual(serverErrors, []);
});
