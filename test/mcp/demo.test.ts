// Every tool, a resource and a prompt against the generated demo data (what `--demo` serves).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ensureDemoData } from "../../src/demo/index.js";
import { MessageSender } from "../../src/send/index.js";
import { type FakeOsascript, installFakeOsascript } from "../helpers/fake-osascript.js";
import { type Connected, call, connect, defined } from "../helpers/mcp-scenario.js";

let dir: string;
let fake: FakeOsascript;
let conn: Connected;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcp-demo-"));
  const demo = ensureDemoData({ dir: join(dir, "demo") });
  fake = await installFakeOsascript({ stdout: "iMessage" });
  conn = await connect({
    chatDb: demo.chatDb,
    contactsRoots: [demo.contactsRoot],
    sender: new MessageSender({ env: fake.env, timeoutMs: 20_000 }),
    demo: true,
  });
});

after(async () => {
  await conn?.close();
  await fake?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("instructions and check_setup say it is demo data", async () => {
  assert.match(conn.client.getInstructions() ?? "", /DEMO data/);
  const { data } = await call(conn.client, "check_setup", {});
  assert.equal(data.checks[0]?.id, "data_source");
  assert.equal(data.checks.find((c) => c.id === "messages_db")?.status, "ok");
  assert.equal(data.checks.find((c) => c.id === "contacts")?.status, "ok");
});

test("list_chats and get_recent_messages show contact names, groups and unread counts", async () => {
  const chats = await call(conn.client, "list_chats", { limit: 100 });
  assert.ok(chats.data.count > 5);
  assert.ok(chats.data.chats.some((c) => c.isGroup && c.participants.length > 1));
  assert.ok(chats.data.chats.some((c) => c.unreadCount > 0));
  const recent = await call(conn.client, "get_recent_messages", { limit: 100 });
  assert.ok(recent.data.count > 0);
  const incoming = recent.data.messages.filter((m) => !m.isFromMe && m.fromHandle?.startsWith("+1555"));
  assert.ok(incoming.length > 0);
  assert.ok(
    incoming.some((m) => m.from !== m.fromHandle),
    "names come from the demo Contacts",
  );
  assert.ok(recent.data.messages.some((m) => m.from === "Me"));
});

test("search_messages substring and fuzzy, find_contact, availability", async () => {
  const exact = await call(conn.client, "search_messages", { query: "dinner", limit: 10 });
  assert.ok(exact.data.count > 0);
  assert.ok(exact.data.messages.every((m) => m.text?.toLowerCase().includes("dinner")));
  const fuzzy = await call(conn.client, "search_messages", { query: "dinnr", limit: 10 });
  assert.equal(fuzzy.data.mode, "fuzzy");
  assert.ok(fuzzy.data.messages.some((m) => m.text?.toLowerCase().includes("dinner")));

  const sophia = await call(conn.client, "find_contact", { query: "sophia" });
  const top = defined(sophia.data.matches[0]);
  assert.equal(top.name, "Sophia Reyes");
  const availability = await call(conn.client, "check_imessage_availability", { recipient: top.ref });
  assert.equal(availability.data.available, "yes");
});

test("send_message: an ambiguous surname lists candidates; a clear name sends", async () => {
  const before = (await fake.calls()).length;
  const ambiguous = await call(conn.client, "send_message", { recipient: "Reyes", text: "hi" });
  assert.equal(ambiguous.result.isError, true);
  assert.match(ambiguous.text, /Robert Reyes \(contact:/);
  assert.match(ambiguous.text, /Sophia Reyes \(contact:/);
  const sent = await call(conn.client, "send_message", {
    format: "json",
    recipient: "Sophia Reyes",
    text: "Calling you now",
  });
  assert.equal(sent.result.isError, undefined, sent.text);
  assert.equal(sent.data.service, "iMessage");
  const calls = (await fake.calls()).slice(before);
  assert.equal(calls.length, 1, "nothing was sent for the ambiguous name");
  assert.deepEqual(calls[0]?.runArgs, [sent.data.to, "Calling you now"]);
});

test("the chat resource and the unread prompt read demo conversations", async () => {
  const { resources } = await conn.client.listResources();
  // The first chat transcript (the list also holds the conversation view, ui://…).
  const first = defined(resources.find((r) => r.uri.startsWith("messages://chat/")));
  const read = await conn.client.readResource({ uri: first.uri });
  assert.match((defined(read.contents[0]) as { text: string }).text, /^Transcript of /);
  const prompt = await conn.client.getPrompt({ name: "summarize_unread" });
  assert.match((defined(prompt.messages[0]).content as { text: string }).text, /<untrusted-message-content>/);
});
