// The tools against a real chat.db from a Mac (imessage-exporter's test database: attributedBody-only rows,
// no handle or chat rows), with no Contacts at all.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Connected, call, connect, copyFixtureDb } from "../helpers/mcp-scenario.js";

const ALL_HISTORY_HOURS = 24 * 366 * 20;
let fixture: ReturnType<typeof copyFixtureDb>;
let conn: Connected;

before(async () => {
  fixture = copyFixtureDb();
  conn = await connect({ chatDb: fixture.path });
});

after(async () => {
  await conn?.close();
  fixture?.cleanup();
});

test("get_recent_messages decodes attributedBody-only rows and pages through them", async () => {
  const { result, data, text } = await call(conn.client, "get_recent_messages", { hours: ALL_HISTORY_HOURS });
  assert.equal(result.isError, undefined, text);
  const messages = data.messages;
  assert.deepEqual(
    messages.map((m) => m.id),
    [548216, 452567, 123445],
  );
  assert.equal(messages[0]?.text, "Oh it translated what I sent!");
  assert.equal(messages[0]?.from, "Me");
  assert.equal(messages[1]?.from, "Unknown sender", "handle 1 has no row in this database");
  assert.equal(messages[1]?.attachments.length, 1);
  assert.match(text, /I’m going to try to eat as quick as possible/);

  const first = await call(conn.client, "get_recent_messages", { hours: ALL_HISTORY_HOURS, limit: 2 });
  const rest = await call(conn.client, "get_recent_messages", {
    hours: ALL_HISTORY_HOURS,
    limit: 2,
    cursor: first.data.nextCursor,
  });
  assert.deepEqual(
    rest.data.messages.map((m) => m.id),
    [123445],
  );
  assert.equal(rest.data.nextCursor, null);
});

test("search_messages finds text that exists only in attributedBody", async () => {
  const { data } = await call(conn.client, "search_messages", { query: "ghacks.net" });
  assert.deepEqual(
    data.messages.map((m) => m.id),
    [123445],
  );
  const fuzzy = await call(conn.client, "search_messages", { query: "translatd", mode: "fuzzy" });
  assert.deepEqual(
    fuzzy.data.messages.map((m) => m.id),
    [548216],
  );
});

test("list_chats, find_contact, availability and check_setup cope with no chats and no Contacts", async () => {
  const chats = await call(conn.client, "list_chats", {});
  assert.equal(chats.data.count, 0);
  assert.match(chats.text, /No chats/);
  const contact = await call(conn.client, "find_contact", { query: "Alice" });
  assert.equal(contact.data.matches.length, 0);
  assert.equal(contact.data.contactsWarning, "No Contacts in this test.");
  const availability = await call(conn.client, "check_imessage_availability", { recipient: "+15551234567" });
  assert.equal(availability.data.available, "unknown");
  const setup = await call(conn.client, "check_setup", {});
  const byId = Object.fromEntries(setup.data.checks.map((c) => [c.id, c]));
  assert.equal(byId.messages_db?.status, "ok");
  assert.equal(byId.contacts?.status, "fail");
  assert.ok(byId.contacts?.fix);
  assert.equal(setup.data.ok, false);
});
