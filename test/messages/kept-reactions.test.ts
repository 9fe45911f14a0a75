// Reactions kept across reads while chat.db is unchanged: a reaction Messages adds or takes back is shown at
// the next read, also of a page read before, and of a message whose reactions were already kept.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { ChatDbWriter } from "../../src/demo/chatdb-writer.js";
import { type MessagesStore, openMessagesStore } from "../../src/messages/index.js";
import { oneToOneChat } from "../helpers/one-to-one-chat.js";

describe("a store's pages after someone reacts to a message it has read", () => {
  let dir: string;
  let writer: ChatDbWriter;
  let store: MessagesStore;
  let chat: number;
  let ann: number;
  const guids: string[] = [];
  const at = (minute: number) => new Date(Date.UTC(2026, 10, 30, 17, minute));

  before(() => {
    ({ dir, writer, handle: ann, chat } = oneToOneChat("mmcp-kept-reactions-"));
    for (let i = 0; i < 5; i++) {
      const message = writer.addMessage({
        chatRowid: chat,
        handleRowid: ann,
        text: `message ${i}`,
        date: at(i),
        isFromMe: i % 2 === 0,
        service: "iMessage",
      });
      guids.push(message.guid);
    }
    store = openMessagesStore(writer.path);
  });

  after(() => {
    store?.close();
    writer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Each message's reactions, oldest message first, as `kind from` (me or the handle). */
  const reactions = (limit = 10) =>
    store
      .getMessages({ chatRowids: [chat], limit })
      .reverse()
      .map((m) => m.tapbacks.map((t) => `${t.kind} ${t.isFromMe ? "me" : t.handle?.id}`));
  const react = (target: number, type: number, minute: number, isFromMe = false) =>
    writer.addMessage({
      chatRowid: chat,
      handleRowid: ann,
      text: null,
      associatedMessageGuid: `p:0/${guids[target]}`,
      associatedMessageType: type,
      date: at(minute),
      isFromMe,
      service: "iMessage",
    });

  test("a reaction added, replaced and taken back is shown at the next read", () => {
    for (let read = 0; read < 3; read++) assert.deepEqual(reactions(), [[], [], [], [], []]);
    // Only the newest two were read last: the others' reactions are looked up, theirs were kept.
    assert.deepEqual(reactions(2), [[], []]);
    react(1, 2000, 10); // love from Ann on message 1
    assert.deepEqual(reactions(), [[], ["love +15550100001"], [], [], []]);
    react(4, 2001, 11, true); // my like on the newest, whose reactions were kept (empty) a moment ago
    assert.deepEqual(reactions(2), [[], ["like me"]]);
    react(1, 2003, 12); // Ann's laugh replaces her love
    react(4, 3001, 13, true); // and I take my like back
    assert.deepEqual(reactions(), [[], ["laugh +15550100001"], [], [], []]);
    assert.deepEqual(reactions(), [[], ["laugh +15550100001"], [], [], []], "and again, from what was kept");
  });
});

describe("reactions of more messages than the store keeps", () => {
  let dir: string;
  let store: MessagesStore;
  let chat: number;
  const COUNT = 5000;

  before(() => {
    const made = oneToOneChat("mmcp-kept-reactions-many-");
    ({ dir, chat } = made);
    const { writer, handle: ann } = made;
    const base = Date.UTC(2026, 0, 1);
    writer.db.transaction(() => {
      for (let i = 0; i < COUNT; i++) {
        const message = writer.addMessage({
          chatRowid: chat,
          handleRowid: ann,
          text: `message ${i}`,
          date: new Date(base + i * 120_000),
          isFromMe: false,
          service: "iMessage",
        });
        if (i % 7 === 0) {
          writer.addMessage({
            chatRowid: chat,
            handleRowid: ann,
            text: null,
            associatedMessageGuid: `p:0/${message.guid}`,
            associatedMessageType: 2000,
            date: new Date(base + i * 120_000 + 60_000),
            isFromMe: true,
            service: "iMessage",
          });
        }
      }
    })();
    writer.close();
    store = openMessagesStore(writer.path);
  });

  after(() => {
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("pages past what is kept, and pages read again after it started over, show each reaction", () => {
    const check = (limit: number, cursor?: string) => {
      const page = store.getMessages({ chatRowids: [chat], limit, cursor });
      for (const m of page) {
        const i = Number(m.text?.split(" ")[1]);
        assert.equal(m.tapbacks.length, i % 7 === 0 ? 1 : 0, `message ${i}`);
      }
      return page.at(-1)?.position;
    };
    // 1,500 + 1,500 + 1,500 messages: the third page passes what is kept; then the first again, and all at once.
    let cursor = check(1500);
    cursor = check(1500, cursor);
    check(1500, cursor);
    check(1500);
    check(COUNT);
    check(COUNT);
  });
});
