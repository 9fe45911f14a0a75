// What the model reads, within budget: a fixed demo conversation of short texts costs at most 110 characters
// per message however the client forwards the result (bench/model-budget.ts prints the same figures through
// a real client over stdio; this keeps regressions out of CI).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { CallToolResult } from "@modelcontextprotocol/client";
import {
  CHARS_PER_MESSAGE_BUDGET,
  forwardedAsText,
  forwardedByClaudeCode,
  TOOLS_LIST_BUDGET_BYTES,
} from "../../bench/model-budget.js";
import { generateDemo } from "../../src/demo/generate.js";
import { openMessagesStore } from "../../src/messages/store.js";
import { MessageSender } from "../../src/send/index.js";
import { MessageScheduler } from "../../src/send/scheduler.js";
import { type Connected, connect } from "../helpers/mcp-scenario.js";

const NOW = new Date("2026-03-02T18:00:00Z");
let dir: string;
let conn: Connected;
let chat: number;
let chatDb: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "model-budget-"));
  const demo = generateDemo({ dir: join(dir, "demo"), now: NOW });
  chatDb = demo.chatDb;
  const store = openMessagesStore(demo.chatDb);
  // The one-to-one chat with the most messages: a conversation of short texts.
  chat =
    store
      .listChats({ limit: 500 })
      .filter((c) => !c.isGroup)
      .sort((a, b) => b.messageCount - a.messageCount)[0]?.rowid ?? 0;
  store.close();
  conn = await connect({ chatDb: demo.chatDb, contactsRoots: [demo.contactsRoot] });
});

after(async () => {
  await conn?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a page of a conversation costs at most 110 characters per message, in every kind of client", async () => {
  const result = (await conn.client.callTool({
    name: "get_recent_messages",
    arguments: { chat: `chat:${chat}`, hours: 24 * 365 * 5, limit: 50 },
  })) as CallToolResult;
  assert.equal(result.isError, undefined);
  const text = forwardedAsText(result);
  const shown = text.match(/^#\d+ /gm)?.length ?? 0;
  assert.equal(shown, 50, "a full page of messages");
  // Claude Code and VS Code forward structuredContent alone when there is any: there is none, so they
  // forward the same fenced text as every other client.
  assert.equal(result.structuredContent, undefined);
  assert.equal(forwardedByClaudeCode(result), text);
  assert.match(text, /<untrusted-message-content>\n[\s\S]*\n<\/untrusted-message-content>/);
  const perMessage = text.length / shown;
  assert.ok(
    perMessage <= CHARS_PER_MESSAGE_BUDGET,
    `${perMessage.toFixed(0)} characters per message (budget ${CHARS_PER_MESSAGE_BUDGET}):\n${text}`,
  );
});

test("format json gives programs every field, and long fields stay bounded there too", async () => {
  const result = (await conn.client.callTool({
    name: "get_recent_messages",
    arguments: { chat: `chat:${chat}`, hours: 24 * 365 * 5, limit: 5, format: "json" },
  })) as CallToolResult;
  const data = result.structuredContent as { messages: { guid: string; isFromMe: boolean }[] };
  assert.equal(data.messages.length, 5);
  assert.ok(data.messages.every((m) => typeof m.guid === "string" && typeof m.isFromMe === "boolean"));
  assert.deepEqual(JSON.parse(forwardedAsText(result)), data);
});

test("tools/list, every tool a sending user sees, fits in 16 KB; the caps it leaves out still hold", async (t) => {
  const sender = new MessageSender({});
  const scheduler = new MessageScheduler({ stateDir: join(dir, "state"), sender, checkIntervalMs: 60_000 });
  const full = await connect({ chatDb, sender, scheduler });
  try {
    const listed = JSON.stringify(await full.client.listTools());
    t.diagnostic(`tools/list: ${listed.length} bytes (budget ${TOOLS_LIST_BUDGET_BYTES})`);
    assert.ok(listed.length <= TOOLS_LIST_BUDGET_BYTES, `tools/list is ${listed.length} bytes`);
    // Left out of the served schemas (they tell a model nothing): the schema URI and strings' maxLength.
    assert.doesNotMatch(listed, /"\$schema"|"maxLength"/);
    const tooLong = await full.client.callTool({
      name: "find_contact",
      arguments: { query: "x".repeat(100_000) },
    });
    assert.equal(tooLong.isError, true, "a 100,000-character query is still refused");
  } finally {
    await full.close();
  }
});
