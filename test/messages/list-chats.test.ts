// list_chats on a chat.db built from Apple's schema: message counts stay exact while messages arrive, are
// deleted, moved to Recently Deleted and restored (counts are kept per process and only new rows are
// added), and the listing's query plans read no chat's messages one by one.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ChatDbWriter } from "../../src/demo/chatdb-writer.js";
import { instantKey } from "../../src/messages/date-order.js";
import { type MessagesStore, openMessagesStore } from "../../src/messages/index.js";
import { windowClause } from "../../src/messages/sql.js";
import { oneToOneChat } from "../helpers/one-to-one-chat.js";

const NOW = Date.UTC(2025, 5, 15, 12);
const MINUTE = 60_000;

let root: string;
let writer: ChatDbWriter;
let store: MessagesStore;
let ann: number;
let chat: number;
let other: number;
let minutes = 0;

function add(chatRowid: number): number {
  minutes += 1;
  return writer.addMessage({
    chatRowid,
    handleRowid: ann,
    text: `message ${minutes}`,
    date: new Date(NOW + minutes * MINUTE),
    isFromMe: false,
    isRead: true,
    service: "iMessage",
  }).rowid;
}

/** The counts list_chats reports, by chat ROWID. */
function counts(): Map<number, number> {
  return new Map(store.listChats({ limit: 50 }).map((c) => [c.rowid, c.messageCount]));
}

/** What a full count says (the truth the cached counts must match). */
function truth(): Map<number, number> {
  const rows = writer.db
    .prepare("SELECT chat_id AS id, COUNT(*) AS n FROM chat_message_join GROUP BY chat_id")
    .all() as { id: number; n: number }[];
  return new Map([[chat, 0], [other, 0], ...rows.map((r): [number, number] => [r.id, r.n])]);
}

before(() => {
  ({ dir: root, writer, handle: ann, chat } = oneToOneChat("mmcp-list-chats-"));
  other = writer.addChat({ identifier: "group", service: "iMessage", isGroup: true, participants: [ann] });
  for (let i = 0; i < 5; i++) add(chat);
  for (let i = 0; i < 3; i++) add(other);
  store = openMessagesStore(writer.path);
});

after(() => {
  store?.close();
  writer?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

test("message counts stay exact as messages arrive, are deleted, recently deleted and restored", () => {
  assert.deepEqual(counts(), truth());
  assert.equal(counts().get(chat), 5);

  const added = [add(chat), add(chat)];
  assert.equal(counts().get(chat), 7, "new messages are added to the kept count");

  // Deleting for good: Apple's triggers delete the message and record it in deleted_messages.
  writer.db.prepare("DELETE FROM chat_message_join WHERE message_id = ?").run(added[0]);
  assert.equal(counts().get(chat), 6, "a deleted message is no longer counted");

  // Recently Deleted: the message moves from chat_message_join to chat_recoverable_message_join.
  const moved = added[1] as number;
  writer.db
    .prepare("INSERT INTO chat_recoverable_message_join (chat_id, message_id, delete_date) VALUES (?, ?, 1)")
    .run(chat, moved);
  writer.db.prepare("DELETE FROM chat_message_join WHERE message_id = ?").run(moved);
  assert.equal(counts().get(chat), 5, "a message in Recently Deleted is not counted");

  // Restored: back in the chat with its old (lower than newer messages') ROWID.
  add(chat);
  assert.equal(counts().get(chat), 6);
  writer.db
    .prepare("INSERT INTO chat_message_join (chat_id, message_id, message_date) VALUES (?, ?, ?)")
    .run(chat, moved, 0);
  writer.db.prepare("DELETE FROM chat_recoverable_message_join WHERE message_id = ?").run(moved);
  assert.equal(counts().get(chat), 7, "a restored message is counted again");
  assert.deepEqual(counts(), truth());
});

test("listing chats reads no chat's messages one by one (query plans)", () => {
  // Once counted, a chat's count only reads rows newer than the last one counted (a new one here).
  counts();
  add(chat);
  const plans = store.queryPlans((s) => s.listChats({ limit: 50 }));
  const text = plans.map((p) => `${p.sql}\n  ${p.plan.join("\n  ")}`).join("\n");
  assert.ok(plans.length >= 3, text);
  for (const { plan } of plans) {
    for (const line of plan) {
      // A SCAN of a message table would grow with history; only the chat list itself may be scanned.
      assert.doesNotMatch(line, /^SCAN (m|j|cmj|message|chat_message_join)\b/, text);
    }
  }
  const count = plans.find((p) => /SELECT COUNT\(\*\) FROM chat_message_join/.test(p.sql));
  assert.ok(count, text);
  assert.match(
    count.plan.join("\n"),
    /SEARCH chat_message_join USING .*\(chat_id=\? AND message_id>\?\)/,
    text,
  );
  const listing = plans.find((p) => /FROM chat c/.test(p.sql));
  assert.ok(listing, text);
  assert.match(listing.plan.join("\n"), /chat_message_join_idx_message_date_id_chat_id \(chat_id=\?\)/, text);
});

test("an unchanged chat.db is listed again without counting anything", () => {
  counts();
  const plans = store.queryPlans((s) => s.listChats({ limit: 50 }));
  const sql = plans.map((p) => p.sql).join("\n");
  assert.doesNotMatch(sql, /COUNT\(/, "neither message nor unread counts are read again");
  add(chat);
  const after = store.queryPlans((s) => s.listChats({ limit: 50 }));
  assert.match(after.map((p) => p.sql).join("\n"), /COUNT\(/, "after a change they are");
  assert.deepEqual(counts(), truth());
});

test("a listing without message counts reads none and says null", () => {
  const fresh = openMessagesStore(writer.path);
  try {
    const plans = fresh.queryPlans((s) => {
      const listed = s.listChats({ limit: 50, messageCounts: false });
      assert.ok(listed.length > 0);
      for (const c of listed) assert.equal(c.messageCount, null);
    });
    const sql = plans.map((p) => p.sql).join("\n");
    assert.doesNotMatch(sql, /SELECT COUNT\(\*\) FROM chat_message_join/);
    assert.match(sql, /FROM chat c/, "the listing itself was read");
    assert.deepEqual(new Map(fresh.listChats({ limit: 50 }).map((c) => [c.rowid, c.messageCount])), truth());
  } finally {
    fresh.close();
  }
});

test("unread counts follow new, read and deleted messages", () => {
  const unread = () => store.listChats({ limit: 50 }).find((c) => c.rowid === chat)?.unreadCount;
  const before = unread() ?? 0;
  const incoming = (chatRowid: number) =>
    writer.addMessage({
      chatRowid,
      handleRowid: ann,
      text: "unread",
      date: new Date(NOW + ++minutes * MINUTE),
      isFromMe: false,
      isRead: false,
      service: "iMessage",
    }).rowid;
  const first = incoming(chat);
  assert.equal(unread(), before + 1);
  assert.equal(unread(), before + 1, "unchanged: the same");
  const second = incoming(chat);
  assert.equal(unread(), before + 2);
  writer.db.prepare("UPDATE message SET is_read = 1 WHERE ROWID = ?").run(first);
  assert.equal(unread(), before + 1, "a message read on the Mac is no longer unread");
  writer.db.prepare("DELETE FROM chat_message_join WHERE message_id = ?").run(second);
  assert.equal(unread(), before, "nor is a deleted one");
  assert.deepEqual(counts(), truth());
});

test("the listing follows every change to chat.db, though it is kept between unchanged calls", () => {
  const order = () => store.listChats({ limit: 50 }).map((c) => c.rowid);
  const newest = (id: number) =>
    store.listChats({ limit: 50 }).find((c) => c.rowid === id)?.lastMessage?.rowid;
  add(other);
  assert.deepEqual(order(), [other, chat]);
  assert.deepEqual(order(), [other, chat], "unchanged: the same listing");
  const latest = add(chat);
  assert.deepEqual(order(), [chat, other], "a new message moves its chat to the top");
  assert.equal(newest(chat), latest);
  const again = add(chat);
  assert.deepEqual(order(), [chat, other], "the same order");
  assert.equal(newest(chat), again, "but a new last message (kept with the listing only while unchanged)");
  writer.setChatDisplayName(chat, "Renamed");
  assert.equal(store.listChats({ limit: 50 })[0]?.displayName, "Renamed", "a renamed chat is listed renamed");
});

test("listings with other limits, offsets and windows share what was read for a chat, and follow changes", () => {
  const last = (options: { limit: number; offset?: number; since?: Date }) =>
    new Map(
      store.listChats({ ...options, messageCounts: false }).map((c) => [c.rowid, c.lastMessage?.rowid]),
    );
  const first = add(chat);
  assert.equal(last({ limit: 1 }).get(chat), first);
  assert.equal(last({ limit: 50, since: new Date(NOW) }).get(chat), first, "a window reuses the chat's read");
  const second = add(chat);
  assert.equal(
    last({ limit: 50, since: new Date(NOW - MINUTE) }).get(chat),
    second,
    "after a change, read again",
  );
  assert.equal(last({ limit: 1 }).get(chat), second);
  add(other);
  assert.equal(last({ limit: 1, offset: 1 }).get(chat), second, "the second page");
});

test("each chat's last message is what a one-message read of that chat returns", () => {
  // The listing reads every listed chat's last message in one statement; these are the cases where that read
  // must agree with the chat's own date order: dates in seconds, a restored row whose join date is unset, a
  // tapback as the newest row, a message in two chats, an unusable date, attachments and replies.
  const dir = mkdtempSync(join(tmpdir(), "mmcp-last-messages-"));
  const w = new ChatDbWriter(join(dir, "chat.db"));
  try {
    const bea = w.addHandle({ id: "+15550100002", service: "iMessage" });
    const newChat = (identifier: string) =>
      w.addChat({ identifier, service: "iMessage", isGroup: false, participants: [bea] });
    const [nanos, seconds, restored, shared, empty, tapbacksOnly] = [
      "nanos",
      "seconds",
      "restored",
      "shared",
      "empty",
      "tapbacks",
    ].map(newChat) as [number, number, number, number, number, number];
    let at = 0;
    const message = (chatRowid: number | null, extra: Partial<Parameters<typeof w.addMessage>[0]> = {}) =>
      w.addMessage({
        chatRowid,
        handleRowid: bea,
        text: `text ${++at}`,
        date: new Date(NOW + at * MINUTE),
        isFromMe: false,
        isRead: true,
        service: "iMessage",
        ...extra,
      });
    const first = message(nanos);
    const reply = message(nanos, { threadOriginatorGuid: first.guid });
    w.addAttachment({
      messageRowid: reply.rowid,
      path: "~/Library/Messages/Attachments/a.jpg",
      name: "a.jpg",
      mimeType: "image/jpeg",
      uti: "public.jpeg",
      totalBytes: 10,
    });
    const tapback = { associatedMessageGuid: `p:0/${reply.guid}`, associatedMessageType: 2001, text: null };
    message(nanos, tapback);
    message(tapbacksOnly, tapback);
    const inSeconds = message(seconds, { datesInSeconds: true });
    message(seconds, { datesInSeconds: true, date: new Date(NOW - 1000 * MINUTE) });
    message(restored);
    const back = message(null);
    w.db
      .prepare("INSERT INTO chat_message_join (chat_id, message_id, message_date) VALUES (?, ?, 0)")
      .run(restored, back.rowid);
    const broken = message(null);
    w.db.prepare("UPDATE message SET date = 'not a date' WHERE ROWID = ?").run(broken.rowid);
    w.db
      .prepare("INSERT INTO chat_message_join (chat_id, message_id, message_date) VALUES (?, ?, 0)")
      .run(restored, broken.rowid);
    message(shared, { date: new Date(NOW - 1000 * MINUTE) });
    w.db
      .prepare(
        "INSERT INTO chat_message_join (chat_id, message_id, message_date) SELECT ?, ?, date FROM message WHERE ROWID = ?",
      )
      .run(shared, reply.rowid, reply.rowid);
    const s = openMessagesStore(w.path);
    try {
      const listed = new Map(s.listChats({ limit: 50 }).map((c) => [c.rowid, c.lastMessage]));
      assert.equal(listed.size, 6);
      for (const [rowid, last] of listed) {
        assert.deepEqual(last, s.getMessages({ chatRowids: [rowid], limit: 1 })[0] ?? null, `chat ${rowid}`);
      }
      assert.equal(listed.get(nanos)?.rowid, reply.rowid, "a tapback is not a last message");
      assert.equal(listed.get(nanos)?.attachments.length, 1);
      assert.equal(listed.get(nanos)?.replyTo?.rowid, first.rowid);
      assert.equal(listed.get(restored)?.rowid, back.rowid, "a restored row is ordered by its own date");
      assert.equal(listed.get(shared)?.rowid, reply.rowid);
      assert.equal(listed.get(shared)?.chatRowid, shared);
      assert.equal(listed.get(seconds)?.rowid, inSeconds.rowid);
      assert.equal(listed.get(empty), null);
      assert.equal(listed.get(tapbacksOnly), null);
    } finally {
      s.close();
    }
  } finally {
    w.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("since_hours, unread_only, limit and offset pick exactly what the listing statement with them would", () => {
  // The listing is read once per data_version and the options filter it in JS; the reference here is SQL's
  // own answer, through the dates where JavaScript numbers are not exact (nanoseconds at the bound ± 1), in
  // seconds, as REAL and as TEXT, and a chat without messages.
  const dir = mkdtempSync(join(tmpdir(), "mmcp-list-window-"));
  const w = new ChatDbWriter(join(dir, "chat.db"));
  try {
    const cy = w.addHandle({ id: "+15550100003", service: "iMessage" });
    const since = new Date(NOW - 30 * MINUTE);
    const bound = instantKey(since);
    const chats = ["at", "below", "seconds", "real", "text", "empty", "old", "after"].map((identifier) =>
      w.addChat({ identifier, service: "iMessage", isGroup: false, participants: [cy] }),
    );
    const [at, below, seconds, real, text, , old, newer] = chats as number[];
    const joinDate = (chatRowid: number | undefined, value: unknown, extra: { isRead?: boolean } = {}) => {
      const { rowid } = w.addMessage({
        chatRowid: chatRowid ?? null,
        handleRowid: cy,
        text: "x",
        date: new Date(NOW - 60 * MINUTE),
        isFromMe: false,
        isRead: extra.isRead ?? true,
        service: "iMessage",
      });
      w.db.prepare("UPDATE chat_message_join SET message_date = ? WHERE message_id = ?").run(value, rowid);
    };
    joinDate(at, bound);
    joinDate(below, bound - 1n, { isRead: false });
    joinDate(seconds, Number(bound / 1_000_000_000n) + 60, { isRead: false });
    joinDate(real, Number(bound) + 5e9);
    joinDate(text, "not a date", { isRead: false });
    joinDate(old, bound - 10n ** 15n);
    joinDate(newer, bound + 10n ** 12n, { isRead: false });
    const s = openMessagesStore(w.path);
    try {
      const window = windowClause({ since }, { date: "last_date", dateEncoding: "chat.db" });
      const reference = (withSince: boolean, unreadOnly: boolean, limit: number, offset: number) => {
        const unread = s.listChats({ limit: 100, messageCounts: false }).filter((c) => c.unreadCount > 0);
        const ids = unreadOnly ? unread.map((c) => c.rowid) : [];
        return w.db
          .prepare(
            `SELECT ROWID FROM (
               SELECT c.ROWID, (SELECT MAX(message_date) FROM chat_message_join WHERE chat_id = c.ROWID) AS last_date
               FROM chat c WHERE ${unreadOnly ? `c.ROWID IN (${ids.join(",") || "NULL"})` : "1"}
             ) ${withSince ? `WHERE ${window.clause}` : ""}
             ORDER BY last_date IS NULL, last_date DESC, ROWID DESC LIMIT ? OFFSET ?`,
          )
          .pluck()
          .all(...(withSince ? window.params : []), limit, offset);
      };
      let checked = 0;
      for (const withSince of [false, true]) {
        for (const unreadOnly of [false, true]) {
          for (const [limit, offset] of [
            [50, 0],
            [2, 0],
            [2, 1],
            [3, 2],
            [1, 7],
          ] as const) {
            const listed = s
              .listChats({ limit, offset, unreadOnly, ...(withSince ? { since } : {}), messageCounts: false })
              .map((c) => c.rowid);
            assert.deepEqual(
              listed,
              reference(withSince, unreadOnly, limit, offset),
              `${withSince} ${unreadOnly} ${limit} ${offset}`,
            );
            checked += listed.length;
          }
        }
      }
      assert.ok(checked > 20);
      const windowed = s.listChats({ limit: 50, since, messageCounts: false }).map((c) => c.rowid);
      assert.ok(
        windowed.includes(at as number) && windowed.includes(real as number),
        "at the bound, and a REAL",
      );
      assert.ok(!windowed.includes(below as number), "one nanosecond before the bound is out");
      assert.ok(windowed.includes(seconds as number), "a date in seconds is compared as seconds");
      assert.ok(!windowed.includes(text as number) && !windowed.includes(old as number));
    } finally {
      s.close();
    }
  } finally {
    w.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
