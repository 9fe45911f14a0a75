import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { ChatDbWriter } from "../../src/demo/chatdb-writer.js";
import { encodeAttributedBody, encodeMessageSummaryInfo } from "../../src/messages/codec.js";
import { classifyOpenError, MessagesDbError } from "../../src/messages/errors.js";
import { type MessagesStore, openMessagesStore, resolveAttachmentPath } from "../../src/messages/index.js";
import { CHAT_DB_CACHE_KIB, openChatDbReadOnly } from "../../src/messages/sql.js";
import { EXPORTER_TEST_DB } from "../helpers/fixtures.js";

const FIXTURE_DB = EXPORTER_TEST_DB;
const HOUR = 3_600_000;

function fileHash(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function expectDbError(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof MessagesDbError, `expected MessagesDbError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  });
}

describe("the real imessage-exporter fixture database", () => {
  let store: MessagesStore;
  before(() => {
    store = openMessagesStore(FIXTURE_DB);
  });
  after(() => store.close());

  test("reads every message, decoding text that lives only in attributedBody", () => {
    const messages = store.getMessages({ limit: 10 });
    assert.deepEqual(
      messages.map((m) => m.rowid),
      [548216, 452567, 123445],
    );
    for (const m of messages) {
      assert.equal(m.textSource, "attributedBody", `message ${m.rowid}`);
      assert.ok(m.text && m.text.length > 0);
    }
    // Handles 1 and 475 are referenced but absent: the rows still read, with no sender.
    assert.equal(messages[0]!.handle, null);
    assert.equal(messages[0]!.isFromMe, true);
    assert.equal(messages[0]!.date.toISOString().slice(0, 4), "2025");
  });

  test("attaches the sticker attachment with mime type, name and size", () => {
    const message = store.getMessage(452567);
    assert.ok(message);
    assert.equal(message.attachments.length, 1);
    const [a] = message.attachments;
    assert.equal(a!.mimeType, "image/heic");
    assert.equal(a!.sizeBytes, 24560);
    assert.equal(a!.isSticker, true);
    assert.equal(a!.name, "289D9E83-33EE-4153-AF13-43DB31792C6F.heic");
    assert.ok(
      a!.path?.endsWith(
        "/StickerCache/8e682c381ab52ec2-289D9E83-33EE-4153-AF13-43DB31792C6F/289D9E83-33EE-4153-AF13-43DB31792C6F.heic",
      ),
    );
  });

  test("reads message_summary_info without inventing edits (these rows carry none)", () => {
    // All three rows have a summary plist, holding only amc/ust (and tmp) keys: no edit or unsend.
    for (const m of store.getMessages({ limit: 10 })) {
      assert.equal(m.isEdited, false, `message ${m.rowid}`);
      assert.equal(m.isUnsent, false, `message ${m.rowid}`);
      assert.equal(m.edit, null);
    }
  });

  test("search finds attributedBody-only text", () => {
    const first = store.getMessage(123445)!;
    const word = first.text!.split(/\s+/).find((w) => w.length > 3)!;
    const hits = store.searchMessages({ text: word.toUpperCase(), limit: 5 });
    assert.ok(
      hits.some((m) => m.rowid === 123445),
      `searching ${word}`,
    );
  });

  test("does not change the file", () => {
    const before = fileHash(FIXTURE_DB);
    store.getMessages({ limit: 10 });
    store.listChats({ limit: 10 });
    assert.equal(fileHash(FIXTURE_DB), before);
  });
});

describe("a chat.db built from Apple's schema", () => {
  const dir = mkdtempSync(join(tmpdir(), "mmcp-store-"));
  const dbPath = join(dir, "Messages", "chat.db");
  const now = new Date();
  const ago = (hours: number) => new Date(now.getTime() - hours * HOUR);
  const ids: Record<string, number> = {};
  const guids: Record<string, string> = {};
  let store: MessagesStore;

  before(() => {
    const w = new ChatDbWriter(dbPath);
    const alice = w.addHandle({ id: "+15550100001", service: "iMessage" });
    const bob = w.addHandle({ id: "bob@example.com", service: "iMessage" });
    const carol = w.addHandle({ id: "+15550100003", service: "SMS" });
    ids.alice = alice;
    ids.bob = bob;
    ids.carol = carol;
    const aliceChat = w.addChat({
      identifier: "+15550100001",
      service: "iMessage",
      isGroup: false,
      participants: [alice],
    });
    const carolChat = w.addChat({
      identifier: "+15550100003",
      service: "SMS",
      isGroup: false,
      participants: [carol],
    });
    const group = w.addChat({
      identifier: "chat123456",
      service: "iMessage",
      isGroup: true,
      displayName: "Climbing crew",
      participants: [alice, bob],
    });
    ids.aliceChat = aliceChat;
    ids.carolChat = carolChat;
    ids.group = group;

    const old = w.addMessage({
      chatRowid: aliceChat,
      handleRowid: alice,
      text: "Old plain text 100% real_deal",
      date: ago(24 * 40),
      isFromMe: false,
      isRead: true,
      service: "iMessage",
    });
    guids.old = old.guid;
    const modern = w.addMessage({
      chatRowid: aliceChat,
      handleRowid: alice,
      text: null,
      attributedBody: encodeAttributedBody("Dinner at Luigi's tonight?"),
      date: ago(5),
      isFromMe: false,
      isRead: true,
      service: "iMessage",
    });
    guids.modern = modern.guid;
    ids.modern = modern.rowid;
    const mine = w.addMessage({
      chatRowid: aliceChat,
      handleRowid: alice,
      text: null,
      attributedBody: encodeAttributedBody("Sure, 7pm works"),
      date: ago(4),
      isFromMe: true,
      service: "iMessage",
    });
    guids.mine = mine.guid;
    // Tapbacks: Alice loves my reply, then changes her mind; I like her question; an emoji reaction.
    w.addMessage({
      chatRowid: aliceChat,
      handleRowid: alice,
      text: "Loved “Sure, 7pm works”",
      date: ago(3.9),
      isFromMe: false,
      isRead: true,
      service: "iMessage",
      associatedMessageGuid: `p:0/${mine.guid}`,
      associatedMessageType: 2000,
    });
    w.addMessage({
      chatRowid: aliceChat,
      handleRowid: alice,
      text: "Removed a heart",
      date: ago(3.8),
      isFromMe: false,
      isRead: true,
      service: "iMessage",
      associatedMessageGuid: `p:0/${mine.guid}`,
      associatedMessageType: 3000,
    });
    w.addMessage({
      chatRowid: aliceChat,
      handleRowid: alice,
      text: "Laughed at",
      date: ago(3.7),
      isFromMe: false,
      isRead: true,
      service: "iMessage",
      associatedMessageGuid: `p:0/${mine.guid}`,
      associatedMessageType: 2003,
    });
    w.addMessage({
      chatRowid: aliceChat,
      handleRowid: alice,
      text: null,
      date: ago(3.6),
      isFromMe: true,
      service: "iMessage",
      associatedMessageGuid: `p:0/${modern.guid}`,
      associatedMessageType: 2001,
    });
    w.addMessage({
      chatRowid: aliceChat,
      handleRowid: alice,
      text: "Reacted 🍝",
      date: ago(3.5),
      isFromMe: false,
      isRead: true,
      service: "iMessage",
      associatedMessageGuid: `p:0/${modern.guid}`,
      associatedMessageType: 2006,
      associatedMessageEmoji: "🍝",
    });
    // A reply in a thread, an edited and an unsent message.
    const reply = w.addMessage({
      chatRowid: aliceChat,
      handleRowid: alice,
      text: "Actually make it 7:30",
      date: ago(3),
      isFromMe: false,
      isRead: false,
      service: "iMessage",
      threadOriginatorGuid: mine.guid,
    });
    ids.reply = reply.rowid;
    const edited = w.addMessage({
      chatRowid: aliceChat,
      handleRowid: alice,
      text: null,
      attributedBody: encodeAttributedBody("See you at 7:30!"),
      date: ago(2.5),
      isFromMe: true,
      service: "iMessage",
      dateEdited: ago(2.4),
      messageSummaryInfo: encodeMessageSummaryInfo({
        editedParts: [0],
        unsentParts: [],
        history: {
          0: [
            { date: ago(2.5), text: "See you at 7!" },
            { date: ago(2.4), text: "See you at 7:30!" },
          ],
        },
      }),
    });
    ids.edited = edited.rowid;
    const unsent = w.addMessage({
      chatRowid: aliceChat,
      handleRowid: alice,
      text: null,
      attributedBody: encodeAttributedBody(""),
      date: ago(2),
      isFromMe: true,
      service: "iMessage",
      dateRetracted: ago(1.9),
      messageSummaryInfo: encodeMessageSummaryInfo({ editedParts: [], unsentParts: [0], history: {} }),
    });
    ids.unsent = unsent.rowid;
    // Group chat with an attachment and an unread message; SMS chat.
    const photo = w.addMessage({
      chatRowid: group,
      handleRowid: bob,
      text: null,
      attributedBody: encodeAttributedBody("\uFFFCLook at this wall", { attachmentGuids: ["ATT-1"] }),
      date: ago(1.5),
      isFromMe: false,
      isRead: false,
      service: "iMessage",
      cacheHasAttachments: true,
    });
    ids.photo = photo.rowid;
    w.addAttachment({
      messageRowid: photo.rowid,
      path: "~/Library/Messages/Attachments/ab/01/ATT-1/wall.png",
      name: "wall.png",
      mimeType: "image/png",
      uti: "public.png",
      totalBytes: 1234,
    });
    w.addMessage({
      chatRowid: group,
      handleRowid: 0,
      text: "Nice!",
      date: ago(1.4),
      isFromMe: true,
      service: "iMessage",
    });
    w.addMessage({
      chatRowid: carolChat,
      handleRowid: carol,
      text: "Your code is 123456",
      date: ago(1),
      isFromMe: false,
      isRead: false,
      service: "SMS",
    });
    w.close();
    store = openMessagesStore(dbPath);
  });
  after(() => {
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("lists recent messages newest first, tapbacks folded into their targets", () => {
    const messages = store.getMessages({ chatRowids: [ids.aliceChat!], limit: 50 });
    assert.deepEqual(
      messages.map((m) => m.text),
      [
        null,
        "See you at 7:30!",
        "Actually make it 7:30",
        "Sure, 7pm works",
        "Dinner at Luigi's tonight?",
        "Old plain text 100% real_deal",
      ],
    );
    const mine = messages.find((m) => m.guid === guids.mine)!;
    assert.deepEqual(
      mine.tapbacks.map((t) => t.kind),
      ["laugh"],
      "the removed heart is gone, the laugh stays",
    );
    assert.equal(mine.tapbacks[0]!.handle?.id, "+15550100001");
    const modern = messages.find((m) => m.guid === guids.modern)!;
    assert.equal(modern.textSource, "attributedBody");
    assert.deepEqual(modern.tapbacks.map((t) => [t.kind, t.isFromMe, t.emoji]).sort(), [
      ["emoji", false, "🍝"],
      ["like", true, null],
    ]);
  });

  test("reports edits with their history and unsent messages", () => {
    const edited = store.getMessage(ids.edited!)!;
    assert.equal(edited.isEdited, true);
    assert.equal(edited.isUnsent, false);
    assert.deepEqual(
      edited.edit?.history[0]?.map((e) => e.text),
      ["See you at 7!", "See you at 7:30!"],
    );
    const unsent = store.getMessage(ids.unsent!)!;
    assert.equal(unsent.isUnsent, true);
    assert.equal(unsent.text, null);
  });

  test("keeps replies, services, and resolves attachment paths next to this chat.db", () => {
    const reply = store.getMessage(ids.reply!)!;
    assert.equal(reply.replyToGuid, guids.mine);
    const photo = store.getMessage(ids.photo!)!;
    assert.equal(photo.text, "\uFFFCLook at this wall");
    assert.equal(photo.attachments[0]!.path, join(dir, "Messages", "Attachments/ab/01/ATT-1/wall.png"));
    assert.equal(photo.attachments[0]!.mimeType, "image/png");
    const sms = store.getMessages({ chatRowids: [ids.carolChat!], limit: 5 });
    assert.equal(sms[0]!.service, "SMS");
  });

  test("filters by time window, sender and unread; paginates by ROWID", () => {
    const lastDay = store.getMessages({ since: ago(24), limit: 100 });
    assert.ok(lastDay.every((m) => m.date >= ago(24)));
    assert.ok(!lastDay.some((m) => m.text === "Old plain text 100% real_deal"));
    const fromBob = store.getMessages({ handleRowids: [ids.bob!], limit: 10 });
    assert.deepEqual(
      fromBob.map((m) => m.rowid),
      [ids.photo],
    );
    const unread = store.getMessages({ unreadOnly: true, limit: 10 });
    assert.deepEqual(
      unread.map((m) => m.text),
      ["Your code is 123456", "\uFFFCLook at this wall", "Actually make it 7:30"],
    );
    const page1 = store.getMessages({ limit: 2 });
    const page2 = store.getMessages({ limit: 2, cursor: page1[1]!.position });
    assert.equal(page2.length, 2);
    assert.ok(page2[0]!.date.getTime() <= page1[1]!.date.getTime());
    assert.ok(!page2.some((m) => page1.some((p) => p.rowid === m.rowid)));
    const newer = store.getMessages({ afterRowid: ids.photo!, limit: 10, order: "asc" });
    assert.deepEqual(
      newer.map((m) => m.text),
      ["Nice!", "Your code is 123456"],
    );
  });

  test("lists chats by last activity with participants, names, counts and unread", () => {
    const chats = store.listChats({ limit: 10 });
    assert.deepEqual(
      chats.map((c) => c.rowid),
      [ids.carolChat, ids.group, ids.aliceChat],
    );
    const group = chats[1]!;
    assert.equal(group.isGroup, true);
    assert.equal(group.displayName, "Climbing crew");
    assert.deepEqual(group.participants.map((p) => p.id).sort(), ["+15550100001", "bob@example.com"]);
    assert.equal(group.unreadCount, 1);
    assert.equal(group.messageCount, 2);
    assert.equal(group.lastMessage?.text, "Nice!");
    const alice = chats[2]!;
    assert.equal(alice.isGroup, false);
    assert.equal(alice.unreadCount, 1);
    const unreadOnly = store.listChats({ limit: 10, unreadOnly: true });
    assert.equal(unreadOnly.length, 3);
    assert.equal(store.getChat("chat123456")?.rowid, ids.group);
    assert.equal(store.getChat(ids.group!)?.displayName, "Climbing crew");
    assert.equal(store.getChat("nope"), null);
    assert.deepEqual(
      store.chatsWithHandles([ids.bob!]).map((c) => c.rowid),
      [ids.group],
    );
  });

  test("search matches attributedBody-only rows and treats % and _ literally", () => {
    assert.deepEqual(
      store.searchMessages({ text: "luigi", limit: 10 }).map((m) => m.rowid),
      [ids.modern],
    );
    assert.equal(store.searchMessages({ text: "100% real_", limit: 10 }).length, 1);
    assert.equal(store.searchMessages({ text: "%", limit: 10 }).length, 1);
    assert.equal(store.searchMessages({ text: "_", limit: 10 }).length, 1);
    assert.deepEqual(store.searchMessages({ text: "wall", chatRowids: [ids.aliceChat!], limit: 10 }), []);
    assert.equal(store.searchMessages({ text: "'; DROP TABLE message; --", limit: 10 }).length, 0);
    assert.deepEqual(
      store.searchMessages({ text: "dinnr tonihgt", mode: "fuzzy", limit: 10 }).map((m) => m.rowid),
      [ids.modern],
    );
    assert.deepEqual(store.searchMessages({ text: "dinnr", limit: 10 }), [], "substring mode is exact");
    assert.ok(store.maxRowid() > 0);
  });

  test("attachments can be searched by MIME prefix and fetched by id", () => {
    const images = store.searchAttachments({ mimePrefix: "image/", limit: 10 });
    assert.equal(images.length, 1);
    assert.equal(images[0]!.messageRowid, ids.photo);
    assert.equal(images[0]!.chatRowid, ids.group);
    assert.equal(store.searchAttachments({ mimePrefix: "application/pdf", limit: 10 }).length, 0);
    assert.equal(store.getAttachment(images[0]!.rowid)?.name, "wall.png");
  });

  test("service history tells whether a handle used iMessage", () => {
    const alice = store.serviceHistory("+15550100001");
    assert.equal(alice[0]!.service, "iMessage");
    assert.ok(alice[0]!.messageCount > 3);
    assert.deepEqual(
      store.serviceHistory("+15550100003").map((s) => s.service),
      ["SMS"],
    );
    assert.deepEqual(store.serviceHistory("+19999999999"), []);
  });
});

// A page's replies, reactions and attachments are looked up with IN lists padded with NULLs to a few prepared
// lengths and cut into chunks of 900 (store.ts, inList): pages whose look-ups fall on each side of every length
// must still find each message's reaction, reply target and attachment.
describe("a page's look-ups by IN list", () => {
  let root: string;
  let store: MessagesStore;
  const COUNT = 520;
  before(() => {
    root = mkdtempSync(join(tmpdir(), "mmcp-in-lists-"));
    const w = new ChatDbWriter(join(root, "Messages", "chat.db"));
    const ann = w.addHandle({ id: "+15550100001", service: "iMessage" });
    const chat = w.addChat({
      identifier: "+15550100001",
      service: "iMessage",
      isGroup: false,
      participants: [ann],
    });
    const now = Date.UTC(2025, 5, 15, 12);
    let previous: string | null = null;
    for (let i = 0; i < COUNT; i++) {
      const message = w.addMessage({
        chatRowid: chat,
        handleRowid: ann,
        text: `message ${i}`,
        date: new Date(now - (COUNT - i) * HOUR),
        isFromMe: false,
        service: "iMessage",
        threadOriginatorGuid: previous,
      });
      w.addMessage({
        chatRowid: chat,
        handleRowid: ann,
        associatedMessageGuid: `p:0/${message.guid}`,
        associatedMessageType: 2000,
        date: new Date(now - (COUNT - i) * HOUR + 60_000),
        isFromMe: true,
        service: "iMessage",
      });
      w.addAttachment({
        messageRowid: message.rowid,
        path: `~/Library/Messages/Attachments/${i}.png`,
        name: `${i}.png`,
        mimeType: "image/png",
        uti: "public.png",
        totalBytes: 100 + i,
      });
      previous = message.guid;
    }
    w.close();
    store = openMessagesStore(join(root, "Messages", "chat.db"));
  });
  after(() => {
    store.close();
    rmSync(root, { recursive: true, force: true });
  });

  // Two reaction forms per message (bp: and p:0/): pages of 8, 9, 16, 17, … messages look up 16, 18, 32, 34, …
  for (const size of [1, 8, 9, 16, 17, 32, 33, 64, 65, 128, 129, 256, 257, 450, 451, COUNT]) {
    test(`a page of ${size} finds every reaction, reply target and attachment`, () => {
      const messages = store.getMessages({ chatRowids: [1], limit: size });
      assert.equal(messages.length, size);
      for (const m of messages) {
        const i = Number(m.text?.split(" ")[1]);
        assert.equal(m.tapbacks.length, 1, `reactions of message ${i}`);
        assert.deepEqual(
          m.attachments.map((a) => a.name),
          [`${i}.png`],
        );
        if (i === 0) assert.equal(m.replyTo, null);
        else assert.equal(m.replyTo?.preview, `message ${i - 1}`);
      }
      const byRowid = store.getMessagesByRowids(messages.map((m) => m.rowid));
      assert.deepEqual(
        byRowid.map((m) => m.rowid),
        messages.map((m) => m.rowid),
      );
    });
  }
});

// A page's reads leave out the columns that hold their default on nearly every row and look them up for the rows
// that do not (store.ts, SPARSE_COLUMNS): whatever those columns hold, a page must read each message exactly as a
// read of the whole row does.
describe("a page's messages whose rarely set columns are set", () => {
  let root: string;
  let store: MessagesStore;
  let chat = 0;
  let ann = 0;
  before(() => {
    root = mkdtempSync(join(tmpdir(), "mmcp-sparse-"));
    const dbPath = join(root, "Messages", "chat.db");
    const w = new ChatDbWriter(dbPath);
    ann = w.addHandle({ id: "+15550100001", service: "iMessage" });
    const bob = w.addHandle({ id: "+15550100002", service: "iMessage" });
    chat = w.addChat({
      identifier: "chat-sparse",
      service: "iMessage",
      isGroup: true,
      participants: [ann, bob],
    });
    const now = Date.UTC(2025, 5, 15, 12);
    let n = 0;
    const add = (extra: Record<string, unknown>) =>
      w.addMessage({
        chatRowid: chat,
        handleRowid: ann,
        text: `message ${n}`,
        date: new Date(now - ++n * HOUR),
        isFromMe: false,
        service: "iMessage",
        ...extra,
      });
    const first = add({});
    add({ subject: "About Saturday" });
    add({ expressiveSendStyleId: "com.apple.MobileSMS.expressivesend.impact" });
    add({ threadOriginatorGuid: first.guid });
    add({ dateEdited: new Date(now - 10 * HOUR) });
    add({ dateRetracted: new Date(now - 11 * HOUR), dateEdited: new Date(now - 11 * HOUR), text: null });
    add({
      messageSummaryInfo: encodeMessageSummaryInfo({
        editedParts: [0],
        unsentParts: [],
        history: { 0: [{ date: new Date(now - 20 * HOUR), text: "first words" }] },
      }),
      dateEdited: new Date(now - 19 * HOUR),
    });
    add({ itemType: 2, groupTitle: "Weekend Crew", text: null });
    add({ itemType: 1, groupActionType: 1, otherHandle: bob, text: null });
    add({ itemType: 3, groupActionType: 1, text: null });
    add({ associatedMessageGuid: `p:0/${first.guid}`, associatedMessageType: 1000 });
    add({});
    w.close();
    // Values a page must not take for defaults: a REAL 0.0 and a text '0' where 0 is the default, NULL for 0,
    // an empty string where NULL is.
    const db = new Database(dbPath);
    const ids = db.prepare("SELECT ROWID FROM message ORDER BY ROWID DESC LIMIT 4").pluck().all() as number[];
    db.prepare("UPDATE message SET date_edited = 0.0 WHERE ROWID = ?").run(ids[0]);
    db.prepare("UPDATE message SET item_type = CAST('0' AS TEXT) WHERE ROWID = ?").run(ids[1]);
    db.prepare("UPDATE message SET other_handle = NULL, associated_message_type = NULL WHERE ROWID = ?").run(
      ids[2],
    );
    db.prepare("UPDATE message SET subject = '', group_title = '' WHERE ROWID = ?").run(ids[3]);
    db.close();
    store = openMessagesStore(dbPath);
  });
  after(() => {
    store.close();
    rmSync(root, { recursive: true, force: true });
  });

  for (const [name, query] of [
    ["a chat's page", () => ({ chatRowids: [chat] })],
    ["a contact's page", () => ({ handleRowids: [ann] })],
    ["all messages", () => ({})],
  ] as const) {
    test(`${name} reads each message as a whole-row read does`, () => {
      const page = store.getMessages({ ...query(), limit: 50 });
      assert.equal(page.length, 12);
      assert.deepEqual(page, store.getMessagesByRowids(page.map((m) => m.rowid)));
      assert.ok(page.some((m) => m.subject === "About Saturday"));
      assert.ok(page.some((m) => m.groupEvent?.kind === "renamed"));
      assert.ok(page.some((m) => m.isEdited && m.edit !== null));
    });
  }
});

describe("schema variations", () => {
  const dir = mkdtempSync(join(tmpdir(), "mmcp-schema-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a macOS 26 (Tahoe) database with extra columns and 'any;' chat guids", () => {
    const path = join(dir, "tahoe", "chat.db");
    const w = new ChatDbWriter(path, { macos26: true });
    const h = w.addHandle({ id: "+15550100009", service: "iMessage" });
    const c = w.addChat({
      identifier: "+15550100009",
      service: "iMessage",
      isGroup: false,
      participants: [h],
    });
    w.addMessage({
      chatRowid: c,
      handleRowid: h,
      text: null,
      attributedBody: encodeAttributedBody("Hello from Tahoe"),
      date: new Date(),
      isFromMe: false,
      service: "iMessage",
    });
    w.close();
    const store = openMessagesStore(path);
    try {
      assert.equal(store.getMessages({ limit: 1 })[0]!.text, "Hello from Tahoe");
      assert.match(store.listChats({ limit: 1 })[0]!.guid, /^any;-;/);
    } finally {
      store.close();
    }
  });

  test("a page reads columns declared otherwise than Apple's as they are stored (a text '0' is not 0)", () => {
    const path = join(dir, "untyped.db");
    const db = new Database(path);
    db.exec(`
      CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, service TEXT NOT NULL);
      CREATE TABLE chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, style INTEGER, chat_identifier TEXT, service_name TEXT, display_name TEXT);
      CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT, handle_id INTEGER DEFAULT 0, service TEXT, date INTEGER, is_from_me INTEGER DEFAULT 0, item_type TEXT, date_edited, subject);
      CREATE TABLE chat_message_join (chat_id INTEGER, message_id INTEGER, PRIMARY KEY (chat_id, message_id));
      CREATE TABLE chat_handle_join (chat_id INTEGER, handle_id INTEGER);
      INSERT INTO handle (id, service) VALUES ('+15550100010', 'SMS');
      INSERT INTO chat (guid, style, chat_identifier, service_name) VALUES ('SMS;-;+15550100010', 45, '+15550100010', 'SMS');
      INSERT INTO chat_handle_join VALUES (1, 1);
      INSERT INTO message (guid, text, handle_id, service, date, item_type, date_edited, subject) VALUES
        ('m1', 'plain', 1, 'SMS', 700000000000000000, 0, 0, NULL),
        ('m2', 'text zero', 1, 'SMS', 700000001000000000, '0', 0, NULL),
        ('m3', 'real zero', 1, 'SMS', 700000002000000000, 0, 0.0, NULL),
        ('m4', 'empty subject', 1, 'SMS', 700000003000000000, 0, 0, '');
      INSERT INTO chat_message_join SELECT 1, ROWID FROM message;
    `);
    db.close();
    const store = openMessagesStore(path);
    try {
      const page = store.getMessages({ chatRowids: [1], limit: 10 });
      assert.equal(page.length, 4);
      assert.deepEqual(page, store.getMessagesByRowids(page.map((m) => m.rowid)));
      assert.equal(page.find((m) => m.text === "text zero")?.itemType, "0");
    } finally {
      store.close();
    }
  });

  test("an old database missing many newer columns still reads", () => {
    const path = join(dir, "old.db");
    const db = new Database(path);
    db.exec(`
      CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, country TEXT, service TEXT NOT NULL, uncanonicalized_id TEXT);
      CREATE TABLE chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, style INTEGER, state INTEGER, chat_identifier TEXT, service_name TEXT, display_name TEXT);
      CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT, handle_id INTEGER DEFAULT 0, service TEXT, date INTEGER, is_from_me INTEGER DEFAULT 0);
      CREATE TABLE chat_message_join (chat_id INTEGER, message_id INTEGER, PRIMARY KEY (chat_id, message_id));
      CREATE TABLE chat_handle_join (chat_id INTEGER, handle_id INTEGER);
      INSERT INTO handle (id, service) VALUES ('+15550100010', 'SMS');
      INSERT INTO chat (guid, style, chat_identifier, service_name) VALUES ('SMS;-;+15550100010', 45, '+15550100010', 'SMS');
      INSERT INTO chat_handle_join VALUES (1, 1);
      -- Pre-High-Sierra rows store seconds since 2001, not nanoseconds.
      INSERT INTO message (guid, text, handle_id, service, date, is_from_me) VALUES ('G1', 'from 2015', 1, 'SMS', 450000000, 0);
      INSERT INTO chat_message_join VALUES (1, 1);
    `);
    db.close();
    const store = openMessagesStore(path);
    try {
      const [m] = store.getMessages({ limit: 5 });
      assert.equal(m!.text, "from 2015");
      assert.equal(m!.date.getUTCFullYear(), 2015);
      assert.deepEqual(m!.tapbacks, []);
      assert.deepEqual(m!.attachments, []);
      const [chat] = store.listChats({ limit: 5 });
      assert.equal(chat!.messageCount, 1);
      assert.equal(chat!.lastMessage?.text, "from 2015");
      assert.equal(store.searchMessages({ text: "2015", limit: 5 }).length, 1);
      assert.deepEqual(store.searchAttachments({ limit: 5 }), []);
    } finally {
      store.close();
    }
  });
});

describe("opening", () => {
  const dir = mkdtempSync(join(tmpdir(), "mmcp-open-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("sees rows still in the write-ahead log, and never writes", () => {
    const path = join(dir, "wal", "chat.db");
    new ChatDbWriter(path).close();
    const writer = new Database(path);
    writer.pragma("journal_mode = WAL");
    writer.pragma("wal_autocheckpoint = 0");
    writer.exec("INSERT INTO handle (id, service) VALUES ('+15550100020', 'iMessage')");
    writer.exec(
      "INSERT INTO message (guid, text, handle_id, service, date, is_from_me) VALUES ('WAL-1', 'only in the WAL', 1, 'iMessage', 700000000000000000, 0)",
    );
    assert.ok(statSync(`${path}-wal`).size > 0, "the row is in chat.db-wal");
    const mainBefore = fileHash(path);
    const store = openMessagesStore(path);
    try {
      assert.equal(store.getMessages({ limit: 5 })[0]?.text, "only in the WAL");
      // Messages keeps writing while we read: new rows show up on the next query.
      writer.exec(
        "INSERT INTO message (guid, text, handle_id, service, date, is_from_me) VALUES ('WAL-2', 'newer', 1, 'iMessage', 700000001000000000, 0)",
      );
      assert.equal(store.getMessages({ limit: 5 })[0]?.text, "newer");
      assert.equal(fileHash(path), mainBefore, "the main file is untouched");
    } finally {
      store.close();
      writer.close();
    }
  });

  test("a chat.db connection keeps a small page cache, not better-sqlite3's 16 MB default", () => {
    const path = join(dir, "cache", "chat.db");
    new ChatDbWriter(path).close();
    const db = openChatDbReadOnly(path);
    try {
      assert.equal(db.pragma("cache_size", { simple: true }), -CHAT_DB_CACHE_KIB);
      assert.ok(
        CHAT_DB_CACHE_KIB <= 4096,
        "a few MB: the page cache stays allocated for the life of the process",
      );
    } finally {
      db.close();
    }
  });

  test("handles added while the store is open are found, missing ones read as no sender", () => {
    const path = join(dir, "handles", "chat.db");
    new ChatDbWriter(path).close();
    const writer = new Database(path);
    writer.exec(
      "INSERT INTO message (guid, text, handle_id, service, date, is_from_me) VALUES ('H-1', 'dangling', 7, 'iMessage', 700000000000000000, 0)",
    );
    const store = openMessagesStore(path);
    try {
      assert.equal(store.getMessages({ limit: 5 })[0]?.handle, null);
      writer.exec("INSERT INTO handle (ROWID, id, service) VALUES (7, '+15550100070', 'iMessage')");
      assert.equal(store.getMessages({ limit: 5 })[0]?.handle?.id, "+15550100070");
    } finally {
      store.close();
      writer.close();
    }
  });

  test("a missing file says where Messages keeps it", () => {
    expectDbError(
      () => openMessagesStore(join(dir, "nope.db"), { explicit: false }),
      "not_found",
      /~\/Library\/Messages\/chat\.db/,
    );
    expectDbError(() => openMessagesStore(join(dir, "nope.db")), "not_found", /--db/);
  });

  test("a file that is not SQLite, or SQLite without Messages tables, is refused clearly", () => {
    const junk = join(dir, "junk.db");
    writeFileSync(junk, "this is not a database at all, just text ".repeat(100));
    expectDbError(() => openMessagesStore(junk), "not_messages_db", /not a Messages database/);
    const other = join(dir, "other.db");
    const db = new Database(other);
    db.exec("CREATE TABLE notes (id INTEGER)");
    db.close();
    expectDbError(
      () => openMessagesStore(other),
      "not_messages_db",
      /missing tables message, handle, chat, chat_message_join/,
    );
    const folder = join(dir, "folder.db");
    mkdirSync(folder);
    expectDbError(() => openMessagesStore(folder), "not_messages_db", /is a folder/);
  });

  test("permission errors explain Full Disk Access", () => {
    for (const code of ["EPERM", "EACCES", "SQLITE_CANTOPEN", "SQLITE_AUTH"]) {
      const error = classifyOpenError(
        "/Users/me/Library/Messages/chat.db",
        Object.assign(new Error("x"), { code }),
      );
      assert.equal(error.code, "permission_denied", code);
      assert.match(error.message, /Full Disk Access/);
    }
    assert.equal(
      classifyOpenError("/x", Object.assign(new Error("x"), { code: "SQLITE_NOTADB" })).code,
      "not_messages_db",
    );
    assert.equal(classifyOpenError("/x", new Error("disk on fire")).code, "unreadable");
  });

  test("attachment paths resolve beside a copied chat.db or in the home folder", () => {
    assert.equal(
      resolveAttachmentPath("~/Library/Messages/Attachments/a.png", "/copy/Messages/chat.db"),
      "/copy/Messages/Attachments/a.png",
    );
    assert.match(
      resolveAttachmentPath("~/Library/Messages/Attachments/a.png", "/tmp/x.db")!,
      /\/Library\/Messages\/Attachments\/a\.png$/,
    );
    assert.equal(resolveAttachmentPath("/abs/file.jpg", "/tmp/x.db"), "/abs/file.jpg");
    assert.equal(resolveAttachmentPath(null, "/tmp/x.db"), null);
  });
});

describe("text matching", () => {
  test("fuzzy search tolerates small typos in longer words only", async () => {
    const { createTextMatcher, boundedEditDistance } = await import("../../src/messages/text-match.js");
    const fuzzy = createTextMatcher("Luigi tonihgt", "fuzzy");
    assert.equal(
      fuzzy.matches("dinner at luigi's tonight?"),
      false,
      "luigi's is one word; luigi is 2 edits away",
    );
    assert.equal(createTextMatcher("dinnr tonihgt", "fuzzy").matches("dinner at luigi's tonight?"), true);
    assert.equal(
      createTextMatcher("cat", "fuzzy").matches("the car"),
      false,
      "3-letter words must match exactly",
    );
    assert.equal(createTextMatcher("𝖍𝖊𝖑𝖑𝖔").matches("say hello"), true, "NFKC folds styled letters");
    assert.equal(boundedEditDistance("kitten", "sitting", 3), 3);
    assert.equal(boundedEditDistance("kitten", "sitting", 1), 2);
    assert.equal(boundedEditDistance("tonihgt", "tonight", 1), 1, "a swap is one typo");
  });
});
