// Decoded blobs kept across reads: used only for the same bytes, so what Messages changes is read afresh.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { ChatDbWriter } from "../../src/demo/chatdb-writer.js";
import { dateToAppleNanosBigInt } from "../../src/messages/apple-time.js";
import { DecodedBlobs } from "../../src/messages/decoded-blobs.js";
import { type MessagesStore, openMessagesStore } from "../../src/messages/index.js";
import { encodeMessageSummaryInfo } from "../../src/messages/summary-info.js";
import { encodeAttributedBody } from "../../src/messages/typedstream-encode.js";
import { oneToOneChat } from "../helpers/one-to-one-chat.js";

describe("DecodedBlobs", () => {
  /** A decoder that counts its calls and returns a fresh object each time. */
  function counting() {
    const calls: string[] = [];
    const blobs = new DecodedBlobs(
      (blob: Buffer, variant: boolean) => {
        calls.push(`${blob.toString()}/${variant}`);
        return { text: blob.toString(), variant, parts: [{ n: 1 }] };
      },
      { count: 2, bytes: 150, blobBytes: 64 },
    );
    return { blobs, calls };
  }

  test("the same message with the same bytes is decoded once, and shares one value", () => {
    const { blobs, calls } = counting();
    const first = blobs.get(7, Buffer.from("hello"), true);
    // A new Buffer holding the same bytes, as each read of the row hands out.
    const second = blobs.get(7, Buffer.from("hello"), true);
    assert.equal(second, first);
    assert.deepEqual(calls, ["hello/true"]);
  });

  test("other bytes or another variant are decoded afresh, and replace what was kept", () => {
    const { blobs, calls } = counting();
    blobs.get(7, Buffer.from("hello"), true);
    assert.equal(blobs.get(7, Buffer.from("hello, edited"), true).text, "hello, edited");
    assert.equal(blobs.get(7, Buffer.from("hello, edited"), false).variant, false);
    assert.equal(blobs.get(7, Buffer.from("hello, edited"), false).text, "hello, edited");
    assert.deepEqual(calls, ["hello/true", "hello, edited/true", "hello, edited/false"]);
    assert.deepEqual(blobs.size, { count: 1, bytes: "hello, edited".length });
  });

  test("keeps the most recently read messages, up to its capacity", () => {
    const { blobs, calls } = counting();
    blobs.get(1, Buffer.from("one"), true);
    blobs.get(2, Buffer.from("two"), true);
    blobs.get(1, Buffer.from("one"), true); // 1 is now the most recent
    blobs.get(3, Buffer.from("three"), true); // drops 2, the least recent
    assert.equal(blobs.size.count, 2);
    blobs.get(1, Buffer.from("one"), true);
    blobs.get(2, Buffer.from("two"), true);
    assert.deepEqual(calls, ["one/true", "two/true", "three/true", "two/true"]);
  });

  test("what is not a Buffer (NULL, other types in a damaged database) is decoded each time and not kept", () => {
    const calls: unknown[] = [];
    const blobs = new DecodedBlobs((blob: unknown) => {
      calls.push(blob);
      return null;
    });
    blobs.get(1, null, true);
    blobs.get(1, null, true);
    blobs.get(2, "text where a blob belongs", true);
    assert.deepEqual(calls, [null, null, "text where a blob belongs"]);
    assert.equal(blobs.size.count, 0);
  });

  test("keeps no more than its bytes of blobs, and no blob above its size for one", () => {
    const { blobs, calls } = counting();
    const long = Buffer.alloc(65, "x");
    blobs.get(1, long, true);
    blobs.get(1, long, true);
    assert.equal(calls.length, 2, "a blob over 64 bytes is decoded at each read");
    assert.deepEqual(blobs.size, { count: 0, bytes: 0 });
    // 150 bytes hold two blobs of 60, not three: the oldest goes.
    for (const rowid of [1, 2, 3]) blobs.get(rowid, Buffer.alloc(60, String(rowid)), true);
    assert.deepEqual(blobs.size, { count: 2, bytes: 120 });
    blobs.get(1, Buffer.alloc(60, "1"), true);
    assert.equal(calls.length, 6, "message 1 was dropped, so it is decoded again");
  });
});

describe("a store's pages after Messages edits a message it has read", () => {
  let dir: string;
  let writer: ChatDbWriter;
  let store: MessagesStore;
  let chat: number;
  let rowid: number;

  before(() => {
    let ann: number;
    ({ dir, writer, handle: ann, chat } = oneToOneChat("mmcp-decoded-blobs-"));
    // As since Ventura: the text only in attributedBody.
    rowid = writer.addMessage({
      chatRowid: chat,
      handleRowid: ann,
      attributedBody: encodeAttributedBody("See you at 6"),
      date: new Date("2026-11-30T17:00:00Z"),
      isFromMe: false,
      service: "iMessage",
    }).rowid;
    store = openMessagesStore(writer.path);
  });

  after(() => {
    store?.close();
    writer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const newest = () => store.getMessages({ chatRowids: [chat], limit: 10 })[0];

  test("the edit is shown at once, with its history", () => {
    for (let read = 0; read < 3; read++) {
      assert.equal(newest()?.text, "See you at 6");
      assert.equal(newest()?.isEdited, false);
    }
    const editedAt = new Date("2026-11-30T17:01:00Z");
    writer.db
      .prepare(
        "UPDATE message SET attributedBody = ?, message_summary_info = ?, date_edited = ? WHERE ROWID = ?",
      )
      .run(
        encodeAttributedBody("See you at 7"),
        encodeMessageSummaryInfo({
          editedParts: [0],
          unsentParts: [],
          history: {
            0: [
              { date: new Date("2026-11-30T17:00:00Z"), text: "See you at 6" },
              { date: editedAt, text: "See you at 7" },
            ],
          },
        }),
        dateToAppleNanosBigInt(editedAt),
        rowid,
      );
    const edited = newest();
    assert.equal(edited?.text, "See you at 7");
    assert.equal(edited?.isEdited, true);
    assert.deepEqual(
      edited?.edit?.history[0]?.map((version) => version.text),
      ["See you at 6", "See you at 7"],
    );
    assert.equal(newest()?.edit, edited?.edit, "the next read shares the decoded history");
  });

  test("an unsend (the body emptied) is shown at once", () => {
    writer.db
      .prepare("UPDATE message SET attributedBody = NULL, date_retracted = date_edited WHERE ROWID = ?")
      .run(rowid);
    const unsent = newest();
    assert.equal(unsent?.text, null);
    assert.equal(unsent?.isUnsent, true);
  });
});
