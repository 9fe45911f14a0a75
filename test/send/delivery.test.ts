// After a send, the sender looks for the sent row in chat.db (issue #12): "confirmed" with the row's own
// service when a real writer process (playing Messages.app) adds it, "uncertain" when no such row appears —
// not even an incoming message with the same text. RCS is reported as RCS, not as the SMS account used.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ChatDbWriter } from "../../src/demo/chatdb-writer.js";
import { type MessagesStore, openMessagesStore } from "../../src/messages/index.js";
import { chatDbDeliveryCheck, MessageSender } from "../../src/send/index.js";
import { type FakeOsascript, installFakeOsascript } from "../helpers/fake-osascript.js";
import { runChatDbWriter } from "../helpers/run-chatdb-writer.js";
import { waitUntil } from "../helpers/wait.js";

const RCS_PEER = "+15550100077";

describe("delivery check in chat.db", () => {
  let dir: string;
  let chatDb: string;
  let chatRowid: number;
  let handleRowid: number;
  let store: MessagesStore;
  let fake: FakeOsascript;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "send-delivery-"));
    chatDb = join(dir, "chat.db");
    const writer = new ChatDbWriter(chatDb);
    handleRowid = writer.addHandle({ id: RCS_PEER, service: "RCS" });
    chatRowid = writer.addChat({
      identifier: RCS_PEER,
      service: "RCS",
      isGroup: false,
      participants: [handleRowid],
    });
    writer.addMessage({
      chatRowid,
      handleRowid,
      text: "earlier",
      date: new Date(Date.now() - 60_000),
      isFromMe: false,
      service: "RCS",
    });
    writer.close();
    store = openMessagesStore(chatDb);
    fake = await installFakeOsascript({ stdout: "sent" });
  });
  after(async () => {
    store?.close();
    await fake?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test("confirmed when Messages writes the sent row; RCS reported as RCS", { timeout: 120_000 }, async () => {
    // The window is generous (a busy machine may take seconds to start the writer); the look ends as soon
    // as the row is there.
    const sender = new MessageSender({ env: fake.env, deliveryWindowMs: 90_000 });
    const before = (await fake.calls()).length;
    const text = "Running late, 10 min";
    const sending = sender.sendText({ kind: "handle", handle: RCS_PEER, preferService: "SMS" }, text, {
      delivery: chatDbDeliveryCheck(store),
    });
    await waitUntil(async () => (await fake.calls()).length > before, "osascript to be called");
    const written = await runChatDbWriter([
      chatDb,
      "sent",
      text,
      String(chatRowid),
      String(handleRowid),
      "RCS",
    ]);
    const rowid = Number(/sent (\d+)/.exec(written)?.[1]);
    const result = await sending;
    assert.equal(result.delivery, "confirmed");
    assert.equal(result.rowid, rowid);
    assert.equal(
      result.service,
      "RCS",
      `asked of the SMS account, stored by Messages as RCS: ${JSON.stringify(result)}`,
    );
  });

  test("uncertain when no sent row appears, even with an incoming message of the same text", async () => {
    const sender = new MessageSender({ env: fake.env, deliveryWindowMs: 1000 });
    // An incoming "live message 0" from the peer: same text, but not mine.
    await runChatDbWriter([chatDb, "append", "1", String(chatRowid), String(handleRowid)]);
    const result = await sender.sendText(
      { kind: "handle", handle: RCS_PEER, preferService: "SMS" },
      "live message 0",
      {
        delivery: {
          ...chatDbDeliveryCheck(store),
          // Mark before the incoming row, so it is among the rows looked at.
          mark: () => store.maxRowid() - 1,
        },
      },
    );
    assert.equal(result.delivery, "uncertain");
    assert.equal(result.service, "SMS", "without a row, the service asked for is all that is known");
    assert.equal(result.rowid, undefined);
  });

  test("a chat.db that cannot be read during the look leaves the send uncertain, not failed", async () => {
    const sender = new MessageSender({ env: fake.env, deliveryWindowMs: 500 });
    const result = await sender.sendText({ kind: "chat", chatGuid: `RCS;-;${RCS_PEER}` }, "hello", {
      delivery: {
        mark: () => 0,
        find: () => {
          throw new Error("database is locked");
        },
      },
    });
    assert.equal(result.ok, true);
    assert.equal(result.delivery, "uncertain");
  });
});
