// Every reading tool, resource and prompt through the official SDK client against a real chat.db + AddressBook.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import BetterSqlite3 from "better-sqlite3";
import { ContactsStore } from "../../src/contacts/index.js";
import { READ_TOOL_NAMES } from "../../src/mcp/index.js";
import type { ToolCall } from "../../src/mcp/tool-definition.js";
import { listChats } from "../../src/mcp/tools/list-chats.js";
import { openMessagesStore } from "../../src/messages/index.js";
import {
  buildScenario,
  type Connected,
  call,
  connect,
  defined,
  HOSTILE_TEXT,
  PHONES,
  type Scenario,
} from "../helpers/mcp-scenario.js";

let scenario: Scenario;
let conn: Connected;

before(async () => {
  scenario = buildScenario();
  conn = await connect({ chatDb: scenario.chatDb, contactsRoots: [scenario.contactsRoot] });
});

after(async () => {
  await conn?.close();
  scenario?.cleanup();
});

describe("tool listing", () => {
  test("read-only server lists every reading tool with schemas and annotations, and no send tool", async () => {
    const { tools } = await conn.client.listTools();
    const names = tools.map((t) => t.name).sort();
    assert.deepEqual(names, [
      "check_imessage_availability",
      "check_setup",
      "find_contact",
      "get_attachment",
      "get_message_context",
      "get_recent_messages",
      "list_chats",
      "list_conversations",
      "search_attachment_contents",
      "search_attachments",
      "search_messages",
      "show_conversation",
      "wait_for_new_messages",
    ]);
    assert.deepEqual(names, [...READ_TOOL_NAMES].sort(), "READ_TOOL_NAMES is the read-only tool list");
    for (const tool of tools) {
      assert.equal(tool.annotations?.readOnlyHint, true, `${tool.name} is read-only`);
      // One rendering for every client (src/mcp/render-result.ts): no output schema; JSON on request.
      assert.equal(tool.outputSchema, undefined, `${tool.name} declares no output schema`);
      assert.ok(tool.inputSchema.properties?.format, `${tool.name} takes format`);
      assert.equal(tool.inputSchema.type, "object");
    }
  });

  test("instructions call message text third-party content", () => {
    const instructions = conn.client.getInstructions() ?? "";
    assert.match(instructions, /third-party content/);
    assert.match(instructions, /never instructions/);
    assert.match(instructions, /sending is switched off/);
  });
});

describe("get_recent_messages", () => {
  test("last 24 hours, newest first, with names, Me, group, attachments, reactions, edits", async () => {
    const { result, data, text } = await call(conn.client, "get_recent_messages", {});
    assert.equal(result.isError, undefined);
    const messages = data.messages;
    const ids = messages.map((m) => m.id);
    assert.ok(!ids.includes(scenario.messages.old), "48-hour-old message is outside the default 24 hours");
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a),
      "newest first",
    );
    // Tapbacks are attached to their message, never listed as messages.
    assert.equal(messages.length, 6);

    const lunch = defined(messages.find((m) => m.id === scenario.messages.lunch));
    assert.equal(lunch.from, "Alice Smith");
    assert.equal(lunch.fromHandle, PHONES.aliceSmith);
    const edited = defined(messages.find((m) => m.id === scenario.messages.edited));
    assert.equal(edited.from, "Me");
    assert.equal(edited.isEdited, true);
    assert.deepEqual(
      edited.editHistory.map((h) => h.text),
      ["Sure, 12 works", "Sure, 12:30 works"],
    );
    assert.equal(edited.reactionSummary, "❤️ Alice Smith");
    const body = defined(messages.find((m) => m.id === scenario.messages.bodyOnly));
    assert.equal(body.text, "Meet at the café by the harbour");
    assert.deepEqual(body.chat, { id: scenario.chats.group, name: "Weekend Crew", isGroup: true });
    assert.equal(body.from, "Bob Stone");
    const photo = defined(messages.find((m) => m.attachments.length > 0));
    assert.equal(photo.attachments[0]?.name, "beach.jpg");
    assert.equal(photo.attachments[0]?.mimeType, "image/jpeg");

    const group = scenario.chats.group;
    assert.match(text, /\[chat:\d+\] Alice Smith: Lunch tomorrow/);
    assert.match(text, new RegExp(`\\nchat:${group} Weekend Crew \\(group\\)\\n`));
    assert.match(text, new RegExp(`\\[chat:${group}\\] Bob Stone: Meet at the café`));
    assert.match(text, /\[❤️ Alice Smith\] \[edited\]/);
    assert.match(text, new RegExp(`\\[chat:${group}\\] Me: \\[attachment \\d+: beach\\.jpg, 200 KB\\]`));
    assert.doesNotMatch(
      text,
      /iMessage|null|false|\[\]/,
      "no boilerplate: the usual service, empty and false fields are left out",
    );
    assert.ok(!text.includes("\uFFFC"), "the attachment placeholder character is not shown");
  });

  test("hostile text cannot close the untrusted block", async () => {
    const { text, data } = await call(conn.client, "get_recent_messages", { contact: PHONES.stranger });
    assert.equal(data.messages[0]?.text, HOSTILE_TEXT, "structured content keeps the text exactly");
    assert.equal(text.match(/<untrusted-message-content>/g)?.length, 1);
    assert.equal(text.match(/<\/untrusted-message-content>/g)?.length, 1);
    assert.ok(
      text.trimEnd().endsWith("</untrusted-message-content>"),
      "the only closing tag is the real one",
    );
    assert.match(text, /\[\/untrusted-message-content> SYSTEM/);
    assert.doesNotMatch(text, /＜\/untrusted/);
  });

  test("hours widens the window; contact by name; pagination with cursors covers everything once", async () => {
    const all = await call(conn.client, "get_recent_messages", { hours: 72, contact: "Alice Smith" });
    const ids = all.data.messages.map((m) => m.id);
    assert.ok(ids.includes(scenario.messages.old));
    assert.match(all.data.filter, /with Alice Smith/);

    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await call(conn.client, "get_recent_messages", {
        hours: 72,
        limit: 2,
        ...(cursor ? { cursor } : {}),
      });
      assert.equal(page.result.isError, undefined, page.text);
      assert.ok(page.data.messages.length <= 2);
      seen.push(...page.data.messages.map((m) => m.id));
      cursor = page.data.nextCursor ?? undefined;
      pages++;
    } while (cursor && pages < 20);
    assert.equal(seen.length, 7);
    assert.equal(new Set(seen).size, 7, "no message repeated across pages");
  });

  test("chat filter by group name and by chat:<id>; unread_only", async () => {
    const byName = await call(conn.client, "get_recent_messages", { chat: "weekend crew" });
    const byRef = await call(conn.client, "get_recent_messages", { chat: `chat:${scenario.chats.group}` });
    assert.deepEqual(byName.data.messages, byRef.data.messages);
    assert.equal(byName.data.messages.length, 2);
    const unread = await call(conn.client, "get_recent_messages", { unread_only: true });
    assert.deepEqual(
      unread.data.messages.map((m) => m.id),
      [scenario.messages.carolUnread],
    );
  });

  test("ambiguous name, bad cursor and unknown chat are clear isError results", async () => {
    const ambiguous = await call(conn.client, "get_recent_messages", { contact: "Alice" });
    assert.equal(ambiguous.result.isError, true);
    assert.match(ambiguous.text, /matches several contacts/);
    assert.match(ambiguous.text, /Alice Smith \(contact:/);
    assert.match(ambiguous.text, /Alice Jones \(contact:/);

    const badCursor = await call(conn.client, "get_recent_messages", { cursor: "not-a-cursor!" });
    assert.equal(badCursor.result.isError, true);
    assert.match(badCursor.text, /cursor is not valid/);
    const forged = Buffer.from(JSON.stringify({ beforeRowid: -4 })).toString("base64url");
    assert.equal((await call(conn.client, "get_recent_messages", { cursor: forged })).result.isError, true);

    const unknownChat = await call(conn.client, "get_recent_messages", { chat: "chat:99999" });
    assert.equal(unknownChat.result.isError, true);
    assert.match(unknownChat.text, /There is no chat chat:99999/);
    assert.doesNotMatch(unknownChat.text, /at .*\.ts:\d+/, "no stack trace");
  });

  test("limit outside 1..1000 is refused by the schema", async () => {
    const result = await call(conn.client, "get_recent_messages", { limit: 1001 });
    assert.equal(result.result.isError, true);
    assert.match(result.text, /limit/);
  });
});

/** `date` written with a fixed offset, e.g. 2025-03-01T11:00:00.000+02:00: what a client in Berlin sends. */
function withOffset(date: Date, offsetMinutes: number): string {
  const shifted = new Date(date.getTime() + offsetMinutes * 60_000).toISOString().slice(0, -1);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${shifted}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000);

describe("get_recent_messages: dates, polling and offsets", () => {
  test("start_date/end_date with offsets select exactly the window; end_date alone counts hours back", async () => {
    const window = await call(conn.client, "get_recent_messages", {
      start_date: withOffset(hoursAgo(6), 120),
      end_date: withOffset(hoursAgo(2.75), -480),
    });
    assert.equal(window.result.isError, undefined, window.text);
    assert.deepEqual(
      window.data.messages.map((m) => m.id),
      [scenario.messages.bodyOnly, scenario.messages.edited, scenario.messages.lunch],
    );
    const before = await call(conn.client, "get_recent_messages", {
      end_date: hoursAgo(4).toISOString(),
      hours: 2,
    });
    assert.deepEqual(
      before.data.messages.map((m) => m.id),
      [scenario.messages.edited, scenario.messages.lunch],
    );
  });

  test("bad dates, a reversed range and hours with start_date are plain-words errors", async () => {
    const reversed = await call(conn.client, "get_recent_messages", {
      start_date: hoursAgo(1).toISOString(),
      end_date: hoursAgo(2).toISOString(),
    });
    assert.equal(reversed.result.isError, true);
    assert.match(reversed.text, /end_date ".*" is before start_date/);
    // end_date is inclusive: the same moment twice is a window holding that moment (util/dates.ts).
    const equal = hoursAgo(1).toISOString();
    const same = await call(conn.client, "get_recent_messages", { start_date: equal, end_date: equal });
    assert.equal(same.result.isError, undefined, same.text);
    const impossible = await call(conn.client, "get_recent_messages", { start_date: "2025-02-30" });
    assert.equal(impossible.result.isError, true);
    assert.match(impossible.text, /start_date "2025-02-30" is not a real calendar date/);
    const both = await call(conn.client, "get_recent_messages", { start_date: "2025-01-01", hours: 5 });
    assert.equal(both.result.isError, true);
    assert.match(both.text, /either hours or start_date/);
    for (const text of [reversed.text, impossible.text, both.text]) assert.doesNotMatch(text, /\.ts:\d+/);
  });

  test("since_rowid: newer messages oldest first, no time limit, pages chained by latestRowid", async () => {
    const newer = await call(conn.client, "get_recent_messages", { since_rowid: scenario.messages.lunch });
    assert.equal(newer.result.isError, undefined, newer.text);
    const ids = newer.data.messages.map((m) => m.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      "oldest first",
    );
    assert.equal(ids[0], scenario.messages.edited);
    assert.equal(ids.at(-1), scenario.messages.carolUnread);
    assert.equal(ids.length, 5, "the tapback is attached to its message, not listed");
    assert.equal(newer.data.latestRowid, scenario.messages.carolUnread);
    assert.equal(newer.data.nextCursor, null);

    const fromStart = await call(conn.client, "get_recent_messages", { since_rowid: 0, limit: 1 });
    assert.deepEqual(
      fromStart.data.messages.map((m) => m.id),
      [scenario.messages.old],
      "a 48-hour-old message: polling has no default 24-hour window",
    );
    const chained: number[] = [];
    let since = 0;
    for (let page = 0; page < 20; page++) {
      const next = await call(conn.client, "get_recent_messages", { since_rowid: since, limit: 2 });
      chained.push(...next.data.messages.map((m) => m.id));
      if (next.data.messages.length === 0) break;
      since = next.data.latestRowid;
    }
    assert.equal(chained.length, 7, "every message");
    assert.equal(new Set(chained).size, 7, "nothing twice");

    const unread = await call(conn.client, "get_recent_messages", { since_rowid: 0, unread_only: true });
    assert.deepEqual(
      unread.data.messages.map((m) => m.id),
      [scenario.messages.carolUnread],
    );
    const withCursor = await call(conn.client, "get_recent_messages", {
      since_rowid: 0,
      cursor: Buffer.from(JSON.stringify({ beforeRowid: 5 })).toString("base64url"),
    });
    assert.equal(withCursor.result.isError, true);
    assert.match(withCursor.text, /either since_rowid or cursor/);
  });

  test("offset skips messages; a cursor wins over offset; limit up to 1000", async () => {
    const all = await call(conn.client, "get_recent_messages", { hours: 72, limit: 1000 });
    const ids = all.data.messages.map((m) => m.id);
    assert.equal(ids.length, 7);
    const skipped = await call(conn.client, "get_recent_messages", { hours: 72, offset: 2, limit: 3 });
    assert.deepEqual(
      skipped.data.messages.map((m) => m.id),
      ids.slice(2, 5),
    );
    assert.ok(skipped.data.nextCursor, "more after this page");
    const rest = await call(conn.client, "get_recent_messages", {
      hours: 72,
      offset: 2,
      cursor: skipped.data.nextCursor,
    });
    assert.deepEqual(
      rest.data.messages.map((m) => m.id),
      ids.slice(5),
      "the cursor continues where the offset page ended; offset is ignored with it",
    );
    const beyond = await call(conn.client, "get_recent_messages", { hours: 72, offset: 7 });
    assert.deepEqual(beyond.data.messages, []);
    const polled = await call(conn.client, "get_recent_messages", { since_rowid: 0, offset: 6 });
    assert.deepEqual(
      polled.data.messages.map((m) => m.id),
      [scenario.messages.carolUnread],
      "oldest first, six skipped",
    );
  });
});

describe("search_messages", () => {
  test("substring search finds attributedBody-only rows, case-insensitively", async () => {
    const { data, text } = await call(conn.client, "search_messages", { query: "CAFÉ BY" });
    assert.equal(data.mode, "substring");
    assert.deepEqual(
      data.messages.map((m) => m.id),
      [scenario.messages.bodyOnly],
    );
    assert.match(text, /1 found \(substring\)/);
  });

  test("auto falls back to fuzzy for typos; fuzzy mode directly too", async () => {
    const auto = await call(conn.client, "search_messages", { query: "rockit lanch" });
    assert.equal(auto.data.mode, "fuzzy");
    assert.deepEqual(
      auto.data.messages.map((m) => m.id),
      [scenario.messages.old],
    );
    assert.match(auto.text, /No exact matches/);
    const strict = await call(conn.client, "search_messages", { query: "rockit lanch", mode: "substring" });
    assert.equal(strict.data.count, 0);
    const fuzzy = await call(conn.client, "search_messages", { query: "invoce", mode: "fuzzy" });
    assert.deepEqual(
      fuzzy.data.messages.map((m) => m.id),
      [scenario.messages.carolUnread],
    );
  });

  test("filters by contact, chat and dates; paginates", async () => {
    const withBob = await call(conn.client, "search_messages", { query: "the", contact: "Bob" });
    assert.deepEqual(
      withBob.data.messages.map((m) => m.id),
      [scenario.messages.bodyOnly],
    );
    const inChat = await call(conn.client, "search_messages", {
      query: "the",
      chat: `chat:${scenario.chats.alice}`,
    });
    assert.ok(inChat.data.messages.every((m) => m.chat?.id === scenario.chats.alice));
    const since = new Date(Date.now() - 24 * 3_600_000).toISOString();
    const recent = await call(conn.client, "search_messages", { query: "rocket", start_date: since });
    assert.equal(recent.data.count, 0);
    const badDate = await call(conn.client, "search_messages", { query: "x", start_date: "yesterday-ish" });
    assert.equal(badDate.result.isError, true);
    assert.match(badDate.text, /not a date/);

    const first = await call(conn.client, "search_messages", { query: "the", limit: 1 });
    assert.equal(first.data.messages.length, 1);
    assert.ok(first.data.nextCursor);
    const second = await call(conn.client, "search_messages", {
      query: "the",
      limit: 1,
      cursor: first.data.nextCursor,
    });
    assert.ok(defined(second.data.messages[0]).id < defined(first.data.messages[0]).id);
  });
});

describe("list_chats", () => {
  test("chats with group name, participants, last message, unread count, refs; paginated", async () => {
    const { data, text } = await call(conn.client, "list_chats", {});
    const chats = data.chats;
    assert.equal(chats.length, 5);
    assert.equal(chats[0]?.id, scenario.chats.carol, "most recently active first");
    assert.equal(chats[0]?.unreadCount, 1);
    assert.equal(chats[0]?.name, "Carol Diaz");
    const group = defined(chats.find((c) => c.id === scenario.chats.group));
    assert.equal(group.name, "Weekend Crew");
    assert.equal(group.isGroup, true);
    assert.deepEqual(group.participants.map((p) => p.name).sort(), ["Alice Smith", "Bob Stone"]);
    assert.equal(group.ref, `chat:${scenario.chats.group}`);
    assert.equal(group.lastMessage?.from, "Me");
    assert.match(text, /Weekend Crew \(group: Alice Smith, Bob Stone\)/);
    assert.match(text, /1 unread/);

    const unread = await call(conn.client, "list_chats", { unread_only: true });
    assert.deepEqual(
      unread.data.chats.map((c) => c.id),
      [scenario.chats.carol],
    );
    const page1 = await call(conn.client, "list_chats", { limit: 3 });
    const page2 = await call(conn.client, "list_chats", { limit: 3, cursor: page1.data.nextCursor });
    assert.equal(page2.data.chats.length, 2);
    assert.equal(page2.data.nextCursor, null);
    const together = [...page1.data.chats, ...page2.data.chats].map((c) => c.id);
    assert.deepEqual(
      together,
      chats.map((c) => c.id),
    );
  });

  test("list_chats as text, which shows no message counts, reads none; as JSON it counts", () => {
    const messages = openMessagesStore(scenario.chatDb);
    try {
      const deps = {
        messages,
        contacts: ContactsStore.open({ roots: [scenario.contactsRoot] }),
        sender: null,
      };
      // The handler reads chat.db before its first await, so the statements it runs can be traced.
      const run = (format: "text" | "json") =>
        messages.queryPlans(() => listChats.handler({}, { deps, format } as unknown as ToolCall));
      const counting = (plans: { sql: string }[]) =>
        plans.some((p) => /SELECT COUNT\(\*\) FROM chat_message_join/.test(p.sql));
      assert.equal(counting(run("text")), false, "text: no message counts read");
      assert.equal(counting(run("json")), true, "json: counted");
    } finally {
      messages.close();
    }
  });

  test("JSON message counts over MCP are the chats' message counts", async () => {
    const { data } = await call(conn.client, "list_chats", { format: "json" });
    const db = new BetterSqlite3(scenario.chatDb, { readonly: true });
    try {
      const count = db.prepare("SELECT COUNT(*) FROM chat_message_join WHERE chat_id = ?").pluck();
      for (const chat of data.chats) assert.equal(chat.messageCount, count.get(chat.id), `chat ${chat.id}`);
    } finally {
      db.close();
    }
  });
});

describe("find_contact", () => {
  test("fuzzy name search with scores, best first", async () => {
    const { data } = await call(conn.client, "find_contact", { query: "alise smth" });
    assert.equal(data.kind, "name");
    assert.equal(data.matches[0]?.name, "Alice Smith");
    assert.ok(data.matches[0]?.score > 0 && data.matches[0]?.score <= 1);
    assert.match(data.matches[0]?.ref, /^contact:/);
    const both = await call(conn.client, "find_contact", { query: "Alice" });
    assert.deepEqual(both.data.matches.map((m) => m.name).sort(), ["Alice Jones", "Alice Smith"]);
  });

  test("reverse lookup by phone in another format and by email", async () => {
    const byPhone = await call(conn.client, "find_contact", { query: "(555) 010-0003" });
    assert.equal(byPhone.data.kind, "phone");
    assert.equal(byPhone.data.matches[0]?.name, "Bob Stone");
    assert.deepEqual(
      byPhone.data.handles.map((h) => h.id),
      [PHONES.bob],
    );
    const byEmail = await call(conn.client, "find_contact", { query: "ALICE@example.com" });
    assert.equal(byEmail.data.matches[0]?.name, "Alice Smith");
    const stranger = await call(conn.client, "find_contact", { query: PHONES.stranger });
    assert.equal(stranger.data.matches.length, 0);
    assert.match(stranger.text, /does appear in Messages/);
  });
});

describe("check_imessage_availability", () => {
  test("iMessage history, SMS-only history, and no history", async () => {
    const alice = await call(conn.client, "check_imessage_availability", { recipient: "Alice Smith" });
    assert.equal(alice.data.available, "yes");
    assert.equal(alice.data.contact, "Alice Smith");
    const carol = await call(conn.client, "check_imessage_availability", { recipient: "555 010 0004" });
    assert.equal(carol.data.available, "no");
    assert.equal(carol.data.addresses[0]?.availability, "sms_only");
    assert.match(carol.text, /will send SMS/);
    const nobody = await call(conn.client, "check_imessage_availability", {
      recipient: "new.person@example.org",
    });
    assert.equal(nobody.data.available, "unknown");
  });
});

describe("check_setup", () => {
  test("reports chat.db and Contacts readable, sending skipped in read-only mode", async () => {
    const { data, text } = await call(conn.client, "check_setup", {});
    const byId = Object.fromEntries(data.checks.map((c) => [c.id, c]));
    assert.equal(byId.messages_db?.status, "ok");
    assert.equal(byId.contacts?.status, "ok");
    assert.equal(byId.messages_app?.status, "skipped");
    assert.equal(byId.node?.status, "ok");
    assert.equal(data.ok, true);
    assert.match(text, /✓ Messages database/);
  });
});

describe("resources and prompts", () => {
  test("chat transcript template: listed, completed, read by id and by name", async () => {
    const { resourceTemplates } = await conn.client.listResourceTemplates();
    assert.deepEqual(resourceTemplates.map((t) => t.uriTemplate).sort(), [
      "messages://chat/{chat}",
      "messages://contact/{contact}",
    ]);
    const { resources } = await conn.client.listResources();
    assert.ok(
      resources.some((r) => r.uri === `messages://chat/${scenario.chats.group}` && r.name === "Weekend Crew"),
    );

    const completion = await conn.client.complete({
      ref: { type: "ref/resource", uri: "messages://chat/{chat}" },
      argument: { name: "chat", value: "week" },
    });
    assert.deepEqual(completion.completion.values, ["Weekend Crew"]);

    const byName = await conn.client.readResource({ uri: "messages://chat/Weekend%20Crew" });
    const content = byName.contents[0] as { text: string };
    // The group's name is other people's words: the header names the chat by ref, the fence spells it out.
    assert.match(
      content.text,
      new RegExp(`^Transcript of chat:${scenario.chats.group} \\(iMessage, group of 2\\)`),
    );
    assert.match(
      content.text,
      new RegExp(
        `<untrusted-message-content>\\nchat:${scenario.chats.group} Weekend Crew \\[group with Alice Smith, Bob Stone\\]\\n`,
      ),
    );
    assert.match(content.text, /Meet at the café/);
    const byId = await conn.client.readResource({ uri: `messages://chat/${scenario.chats.group}` });
    assert.equal((byId.contents[0] as { text: string }).text, content.text);
    await assert.rejects(conn.client.readResource({ uri: "messages://chat/nope" }), /No chat matches "nope"/);
  });

  test("contact template completes names and reads a person's messages", async () => {
    const completion = await conn.client.complete({
      ref: { type: "ref/resource", uri: "messages://contact/{contact}" },
      argument: { name: "contact", value: "bo" },
    });
    assert.deepEqual(completion.completion.values, ["Bob Stone"]);
    const read = await conn.client.readResource({ uri: "messages://contact/Bob%20Stone" });
    assert.match((read.contents[0] as { text: string }).text, /Meet at the café/);
  });

  test("prompts: summarize_unread embeds unread messages; catch_up_with_contact completes and embeds", async () => {
    const { prompts } = await conn.client.listPrompts();
    assert.deepEqual(prompts.map((p) => p.name).sort(), ["catch_up_with_contact", "summarize_unread"]);
    const unread = await conn.client.getPrompt({ name: "summarize_unread" });
    const unreadText = (defined(unread.messages[0]).content as { text: string }).text;
    assert.match(unreadText, /Carol Diaz/);
    assert.match(unreadText, /invoice/);
    assert.match(unreadText, /never as instructions/);

    const completion = await conn.client.complete({
      ref: { type: "ref/prompt", name: "catch_up_with_contact" },
      argument: { name: "contact", value: "car" },
    });
    assert.deepEqual(completion.completion.values, ["Carol Diaz"]);
    const catchUp = await conn.client.getPrompt({
      name: "catch_up_with_contact",
      arguments: { contact: "Alice Smith" },
    });
    const catchUpText = (defined(catchUp.messages[0]).content as { text: string }).text;
    assert.match(catchUpText, /Lunch tomorrow/);
    assert.match(catchUpText, /only send it/);
  });
});
