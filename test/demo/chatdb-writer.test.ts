import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import Database from "better-sqlite3";
import { ChatDbWriter, registerAppleTriggerFunctions, splitSchema } from "../../src/demo/chatdb-writer.js";
import { readSchemaSql } from "../../src/demo/schema.js";
import { attributedBodyText, encodeAttributedBody } from "../../src/messages/codec.js";

const root = mkdtempSync(join(tmpdir(), "chatdb-writer-test-"));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const newPath = () => join(root, `t${++counter}`, "chat.db");

function objectCounts(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db
      .prepare("SELECT type, count(*) AS n FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' GROUP BY type")
      .all() as { type: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.type, r.n]));
  } finally {
    db.close();
  }
}

/** Writes a small conversation with every helper and returns what it wrote. */
function writeSample(path: string, options: ConstructorParameters<typeof ChatDbWriter>[1] = {}) {
  const writer = new ChatDbWriter(path, options);
  const date = new Date("2025-03-04T05:06:07.891Z");
  const out = writer.transaction(() => {
    const ann = writer.addHandle({ id: "+15550100123", service: "iMessage" });
    const bob = writer.addHandle({ id: "bob@example.com", service: "iMessage" });
    const oneToOne = writer.addChat({
      identifier: "+15550100123",
      service: "iMessage",
      isGroup: false,
      participants: [ann],
    });
    const group = writer.addChat({
      identifier: "chat123456789",
      service: "iMessage",
      displayName: "Hikers",
      isGroup: true,
      participants: [ann, bob],
    });
    const modern = writer.addMessage({
      chatRowid: oneToOne,
      handleRowid: ann,
      text: null,
      attributedBody: encodeAttributedBody("Modern hello"),
      date,
      isFromMe: false,
      service: "iMessage",
    });
    const legacy = writer.addMessage({
      chatRowid: group,
      handleRowid: bob,
      text: "Old style",
      attributedBody: encodeAttributedBody("Old style"),
      date: new Date(date.getTime() + 1000),
      isFromMe: false,
      isRead: false,
      service: "iMessage",
    });
    const tapback = writer.addMessage({
      chatRowid: oneToOne,
      handleRowid: ann,
      text: "Loved “Modern hello”",
      associatedMessageGuid: `p:0/${modern.guid}`,
      associatedMessageType: 2000,
      date: new Date(date.getTime() + 2000),
      isFromMe: true,
      service: "iMessage",
    });
    const withFile = writer.addMessage({
      chatRowid: group,
      handleRowid: 0,
      text: "\ufffc",
      date: new Date(date.getTime() + 3000),
      isFromMe: true,
      service: "iMessage",
      balloonBundleId: "com.apple.messages.URLBalloonProvider",
    });
    const file = writer.addAttachment({
      messageRowid: withFile.rowid,
      path: "~/Library/Messages/Attachments/ab/01/X/photo.png",
      name: "photo.png",
      mimeType: "image/png",
      uti: "public.png",
      totalBytes: 1234,
      createdDate: date,
    });
    return { ann, bob, oneToOne, group, modern, legacy, tapback, withFile, file };
  });
  writer.close();
  return { ...out, date };
}

describe("ChatDbWriter", () => {
  test("splitSchema keeps every statement of Apple's schema and defers full indexes and triggers", () => {
    const { tables, deferred } = splitSchema(readSchemaSql("chat"));
    assert.equal(tables.filter((s) => s.startsWith("CREATE TABLE")).length, 18);
    assert.equal(deferred.filter((s) => s.startsWith("CREATE TRIGGER")).length, 17);
    const indexes = [...tables, ...deferred].filter((s) => s.startsWith("CREATE INDEX"));
    assert.equal(indexes.length, 32);
    assert.ok(
      tables.some((s) => s.includes("message_idx_is_scheduled_message")),
      "partial index created up front",
    );
  });

  for (const bulk of [false, true]) {
    test(`writes rows Messages-shaped (bulk: ${bulk})`, () => {
      const path = newPath();
      const w = writeSample(path, { bulk });
      assert.deepEqual(objectCounts(path), { table: 18, index: 32, trigger: 17 });
      const db = new Database(path, { readonly: true });
      db.defaultSafeIntegers(true);
      try {
        assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
        const chats = db
          .prepare("SELECT ROWID, guid, style, display_name, room_name FROM chat ORDER BY ROWID")
          .all();
        assert.deepEqual(chats, [
          {
            ROWID: BigInt(w.oneToOne),
            guid: "iMessage;-;+15550100123",
            style: 45n,
            display_name: "",
            room_name: null,
          },
          {
            ROWID: BigInt(w.group),
            guid: "iMessage;+;chat123456789",
            style: 43n,
            display_name: "Hikers",
            room_name: "chat123456789",
          },
        ]);
        const members = db.prepare("SELECT chat_id, handle_id FROM chat_handle_join ORDER BY 1, 2").all();
        assert.deepEqual(members, [
          { chat_id: BigInt(w.oneToOne), handle_id: BigInt(w.ann) },
          { chat_id: BigInt(w.group), handle_id: BigInt(w.ann) },
          { chat_id: BigInt(w.group), handle_id: BigInt(w.bob) },
        ]);
        const modern = db
          .prepare(
            "SELECT text, attributedBody, date, is_read, is_from_me, handle_id, cache_roomnames FROM message WHERE guid = ?",
          )
          .get(w.modern.guid) as Record<string, unknown>;
        assert.equal(modern.text, null);
        assert.equal(attributedBodyText(modern.attributedBody as Buffer), "Modern hello");
        // Nanoseconds since 2001-01-01, exact.
        assert.equal(modern.date, BigInt(w.date.getTime() - Date.UTC(2001, 0, 1)) * 1_000_000n);
        assert.equal(modern.is_read, 0n);
        assert.equal(modern.handle_id, BigInt(w.ann));
        assert.equal(modern.cache_roomnames, null);
        const legacy = db
          .prepare("SELECT text, cache_roomnames, is_read FROM message WHERE ROWID = ?")
          .get(w.legacy.rowid) as Record<string, unknown>;
        assert.deepEqual(legacy, { text: "Old style", cache_roomnames: "chat123456789", is_read: 0n });
        const tapback = db
          .prepare(
            "SELECT associated_message_guid, associated_message_type, is_from_me, is_sent FROM message WHERE ROWID = ?",
          )
          .get(w.tapback.rowid);
        assert.deepEqual(tapback, {
          associated_message_guid: `p:0/${w.modern.guid}`,
          associated_message_type: 2000n,
          is_from_me: 1n,
          is_sent: 1n,
        });
        const joins = db
          .prepare("SELECT chat_id, message_id FROM chat_message_join ORDER BY message_id")
          .all();
        assert.equal(joins.length, 4);
        const file = db
          .prepare(
            `SELECT a.filename, a.transfer_name, a.mime_type, a.total_bytes, a.created_date, m.cache_has_attachments
             FROM attachment a JOIN message_attachment_join j ON j.attachment_id = a.ROWID JOIN message m ON m.ROWID = j.message_id`,
          )
          .get();
        assert.deepEqual(file, {
          filename: "~/Library/Messages/Attachments/ab/01/X/photo.png",
          transfer_name: "photo.png",
          mime_type: "image/png",
          total_bytes: 1234n,
          created_date: BigInt(Math.floor((w.date.getTime() - Date.UTC(2001, 0, 1)) / 1000)),
          cache_has_attachments: 1n,
        });
      } finally {
        db.close();
      }
    });
  }

  test("macOS 26 variant adds the new columns and the any; chat guid prefix", () => {
    const path = newPath();
    const w = writeSample(path, { macos26: true });
    const db = new Database(path, { readonly: true });
    try {
      const columns = (db.prepare("PRAGMA table_info(message)").all() as { name: string }[]).map(
        (c) => c.name,
      );
      assert.ok(columns.includes("date_recovered") && columns.includes("ck_chat_id"));
      const chatColumns = (db.prepare("PRAGMA table_info(chat)").all() as { name: string }[]).map(
        (c) => c.name,
      );
      assert.ok(chatColumns.includes("is_pending_review"));
      assert.equal(
        db.prepare("SELECT guid FROM chat WHERE ROWID = ?").pluck().get(w.oneToOne),
        "any;-;+15550100123",
      );
    } finally {
      db.close();
    }
  });

  test("Apple's delete triggers run once the no-op functions are registered", () => {
    const path = newPath();
    const w = writeSample(path);
    const db = new Database(path);
    try {
      assert.throws(() => db.prepare("DELETE FROM attachment").run(), /no such function/);
      registerAppleTriggerFunctions(db);
      db.prepare("DELETE FROM attachment").run();
      db.prepare("DELETE FROM message WHERE ROWID = ?").run(w.withFile.rowid); // has balloon_bundle_id
      db.prepare("DELETE FROM chat WHERE ROWID = ?").run(w.oneToOne);
      // Deleting the chat's joins deleted its messages too (Apple's after_delete_on_chat_message_join).
      assert.equal(db.prepare("SELECT count(*) FROM message").pluck().get(), 1);
      assert.equal(db.prepare("SELECT count(*) FROM deleted_messages").pluck().get(), 3);
    } finally {
      db.close();
    }
  });

  test("refuses to overwrite and rejects bad input with clear messages", () => {
    const path = newPath();
    writeSample(path);
    assert.throws(() => new ChatDbWriter(path), /already exists/);
    const writer = new ChatDbWriter(newPath());
    try {
      assert.throws(() => writer.addHandle({ id: "", service: "SMS" }), /id must be a non-empty string/);
      assert.throws(
        () =>
          writer.addMessage({
            chatRowid: null,
            handleRowid: 0,
            date: new Date("nope"),
            isFromMe: true,
            service: "SMS",
          }),
        /date must be a valid Date/,
      );
      assert.throws(
        () =>
          writer.addAttachment({
            messageRowid: 1,
            path: null,
            name: "a",
            mimeType: null,
            uti: null,
            totalBytes: -1,
          }),
        /totalBytes/,
      );
    } finally {
      writer.close();
    }
    assert.ok(existsSync(path));
  });
});
