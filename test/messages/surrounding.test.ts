// A message and its neighbours in its chat, by date, on a hand-built chat.db whose ROWID order differs from
// its date order (as after iCloud sync or an import).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ChatDbWriter } from "../../src/demo/chatdb-writer.js";
import { type MessagesStore, openMessagesStore } from "../../src/messages/index.js";
import { messagesAround } from "../../src/messages/surrounding.js";

const MINUTE = 60_000;
const base = new Date("2025-03-09T09:00:00Z").getTime();

describe("messagesAround", () => {
  let dir: string;
  let store: MessagesStore;
  const texts = new Map<number, string>();
  let orphan = 0;
  let target = 0;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "surrounding-"));
    const w = new ChatDbWriter(join(dir, "chat.db"));
    const ann = w.addHandle({ id: "+15550100001", service: "iMessage" });
    const bob = w.addHandle({ id: "+15550100002", service: "iMessage" });
    const chat = w.addChat({
      identifier: "+15550100001",
      service: "iMessage",
      isGroup: false,
      participants: [ann],
    });
    const other = w.addChat({
      identifier: "+15550100002",
      service: "iMessage",
      isGroup: false,
      participants: [bob],
    });
    // Minutes, in ROWID order: 0, 1, 2, 5, 6, then 3 and 4 synced late (higher ROWIDs, earlier dates).
    for (const minute of [0, 1, 2, 5, 6, 3, 4]) {
      const ref = w.addMessage({
        chatRowid: chat,
        handleRowid: ann,
        isFromMe: minute % 2 === 0,
        service: "iMessage",
        text: `m${minute}`,
        date: new Date(base + minute * MINUTE),
      });
      texts.set(ref.rowid, `m${minute}`);
      if (minute === 2) target = ref.rowid;
      // A tapback on m2 is not a message of its own.
      if (minute === 2) {
        w.addMessage({
          chatRowid: chat,
          handleRowid: ann,
          isFromMe: false,
          service: "iMessage",
          text: "Loved “m2”",
          associatedMessageGuid: `p:0/${ref.guid}`,
          associatedMessageType: 2000,
          date: new Date(base + 2.5 * MINUTE),
        });
      }
    }
    w.addMessage({
      chatRowid: other,
      handleRowid: bob,
      isFromMe: false,
      service: "iMessage",
      text: "elsewhere",
      date: new Date(base + 2 * MINUTE),
    });
    orphan = w.addMessage({
      chatRowid: null,
      handleRowid: bob,
      isFromMe: false,
      service: "iMessage",
      text: "alone",
      date: new Date(base),
    }).rowid;
    w.close();
    store = openMessagesStore(join(dir, "chat.db"));
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const words = (list: { text: string | null }[]) => list.map((m) => m.text);

  test("neighbours by date, not ROWID; only this chat; tapbacks folded in", () => {
    const around = messagesAround(store, target, 2, 2);
    assert.ok(around);
    assert.equal(around.message.text, "m2");
    assert.equal(around.message.tapbacks.length, 1);
    assert.deepEqual(words(around.before), ["m0", "m1"]);
    assert.deepEqual(words(around.after), ["m3", "m4"]);
    assert.equal(around.moreBefore, false);
    assert.equal(around.moreAfter, true);
  });
  test("by guid, with lopsided and empty windows", () => {
    const guid = store.getMessage(target)?.guid ?? "";
    const around = messagesAround(store, guid, 0, 10);
    assert.deepEqual(words(around?.before ?? []), []);
    assert.deepEqual(words(around?.after ?? []), ["m3", "m4", "m5", "m6"]);
    assert.equal(around?.moreAfter, false);
    assert.equal(around?.moreBefore, false);
  });
  test("an orphan row comes alone; an unknown id is null", () => {
    const alone = messagesAround(store, orphan, 5, 5);
    assert.equal(alone?.message.text, "alone");
    assert.deepEqual(alone?.before, []);
    assert.equal(messagesAround(store, 999_999, 1, 1), null);
  });
});
