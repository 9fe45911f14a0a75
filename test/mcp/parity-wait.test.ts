import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { ContactsStore } from "../../src/contacts/index.js";
import { ChatDbWriter, registerAppleTriggerFunctions } from "../../src/demo/chatdb-writer.js";
import type { ServerDeps } from "../../src/mcp/core/server-deps.js";
import { registerResources } from "../../src/mcp/resources.js";
import { enableChatSubscriptions } from "../../src/mcp/subscriptions.js";
import { registerTool } from "../../src/mcp/tool-definition.js";
import { waitForNewMessages } from "../../src/mcp/tools/wait-for-new-messages.js";
import { dateToAppleNanosBigInt } from "../../src/messages/apple-time.js";
import { type MessagesStore, openMessagesStore } from "../../src/messages/index.js";
import { type CalledTool, call, connectRegistered, structured, textOf } from "../helpers/mcp-scenario.js";

describe("wait_for_new_messages and chat subscriptions", () => {
  let dir: string;
  let dbPath: string;
  let store: MessagesStore;
  let writer: Database.Database;
  let deps: ServerDeps;
  const chats: Record<string, number> = {};
  const handles: Record<string, number> = {};
  let minute = 0;

  /** Appends a message the way Messages would while the server is reading. */
  function arrive(chat: number, handle: number, text: string, tapbackOf?: string): number {
    const date = dateToAppleNanosBigInt(new Date(Date.UTC(2025, 0, 2, 0, minute++)));
    const row = writer
      .prepare(
        `INSERT INTO message (guid, text, handle_id, service, date, is_from_me, associated_message_guid, associated_message_type)
         VALUES (?, ?, ?, 'iMessage', ?, 0, ?, ?)`,
      )
      .run(
        `G-${minute}-${text}`,
        text,
        handle,
        date,
        tapbackOf ? `p:0/${tapbackOf}` : null,
        tapbackOf ? 2000 : 0,
      );
    const rowid = Number(row.lastInsertRowid);
    writer
      .prepare("INSERT INTO chat_message_join (chat_id, message_id, message_date) VALUES (?, ?, ?)")
      .run(chat, rowid, date);
    return rowid;
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "mcp-parity-wait-"));
    dbPath = join(dir, "Messages", "chat.db");
    const w = new ChatDbWriter(dbPath);
    handles.alice = w.addHandle({ id: "+15550100001", service: "iMessage" });
    handles.bob = w.addHandle({ id: "+15550100002", service: "iMessage" });
    chats.alice = w.addChat({
      identifier: "+15550100001",
      service: "iMessage",
      isGroup: false,
      participants: [handles.alice],
    });
    chats.bob = w.addChat({
      identifier: "+15550100002",
      service: "iMessage",
      isGroup: false,
      participants: [handles.bob],
    });
    w.addMessage({
      chatRowid: chats.alice,
      handleRowid: handles.alice,
      text: "first",
      date: new Date(Date.UTC(2025, 0, 1)),
      isFromMe: false,
      service: "iMessage",
    });
    w.close();
    writer = new Database(dbPath);
    registerAppleTriggerFunctions(writer);
    store = openMessagesStore(dbPath);
    deps = { messages: store, contacts: ContactsStore.empty("test"), sender: null };
  });
  after(() => {
    store.close();
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("returns at once with messages already newer than since_rowid, oldest first", async () => {
    const session = await connectRegistered((server) =>
      registerTool(server, waitForNewMessages, { ...deps, waitPollIntervalMs: 20 }),
    );
    try {
      const since = store.maxRowid();
      const one = arrive(chats.bob ?? 0, handles.bob ?? 0, "hello from bob");
      const two = arrive(chats.alice ?? 0, handles.alice ?? 0, "hello from alice");
      const result = structured<{
        messages: { id: number; text: string }[];
        latestRowid: number;
        timedOut: boolean;
      }>(await call(session.client, "wait_for_new_messages", { since_rowid: since, timeout_seconds: 30 }));
      assert.deepEqual(
        result.messages.map((m) => m.id),
        [one, two],
      );
      assert.equal(result.latestRowid, two);
      assert.equal(result.timedOut, false);

      const onlyBob = structured<{ messages: { id: number }[] }>(
        await call(session.client, "wait_for_new_messages", {
          since_rowid: since,
          contact: "+15550100002",
          timeout_seconds: 30,
        }),
      );
      assert.deepEqual(
        onlyBob.messages.map((m) => m.id),
        [one],
      );
    } finally {
      await session.close();
    }
  });

  it("waits, reporting progress, until a real message arrives; a tapback alone does not end the wait", async () => {
    const session = await connectRegistered((server) =>
      registerTool(server, waitForNewMessages, { ...deps, waitPollIntervalMs: 20 }),
    );
    try {
      const since = store.maxRowid();
      const target = store.getMessages({ limit: 1 })[0];
      let progressCount = 0;
      let tapback = 0;
      let real = 0;
      const pending = session.client.callTool(
        {
          name: "wait_for_new_messages",
          arguments: {
            since_rowid: since,
            chat: `chat:${chats.alice}`,
            timeout_seconds: 120,
            format: "json",
          },
        },
        {
          timeout: 130_000,
          onprogress: () => {
            progressCount++;
            // Write only after the tool is demonstrably waiting: first a tapback, a few polls later a message.
            if (progressCount === 1)
              tapback = arrive(chats.alice ?? 0, handles.alice ?? 0, "Loved “first”", target?.guid);
            if (progressCount === 4) real = arrive(chats.alice ?? 0, handles.alice ?? 0, "are you there?");
          },
        },
      );
      const result = structured<{ messages: { id: number; text: string }[]; timedOut: boolean }>(
        (await pending) as CalledTool,
      );
      assert.ok(tapback > 0 && real > tapback);
      assert.ok(progressCount >= 4);
      assert.deepEqual(
        result.messages.map((m) => m.text),
        ["are you there?"],
      );
      assert.equal(result.timedOut, false);
    } finally {
      await session.close();
    }
  });

  it("times out with nothing new, and a cancelled wait stops without an answer", async () => {
    const session = await connectRegistered((server) =>
      registerTool(server, waitForNewMessages, { ...deps, waitPollIntervalMs: 20 }),
    );
    try {
      const since = store.maxRowid();
      const quiet = await call(session.client, "wait_for_new_messages", {
        since_rowid: since,
        timeout_seconds: 0.1,
      });
      const body = structured<{ messages: unknown[]; timedOut: boolean; latestRowid: number }>(quiet);
      assert.equal(body.timedOut, true);
      assert.equal(body.messages.length, 0);
      assert.equal(body.latestRowid, since);
      assert.match(textOf(quiet), /none arrived/);

      const controller = new AbortController();
      const cancelled = session.client.callTool(
        { name: "wait_for_new_messages", arguments: { since_rowid: since, timeout_seconds: 300 } },
        { signal: controller.signal, onprogress: () => controller.abort() },
      );
      await assert.rejects(cancelled, /abort/i);
      // The server is still answering after the cancelled wait.
      const again = structured<{ timedOut: boolean }>(
        await call(session.client, "wait_for_new_messages", { since_rowid: since, timeout_seconds: 0.05 }),
      );
      assert.equal(again.timedOut, true);

      const badChat = await call(session.client, "wait_for_new_messages", {
        chat: "chat:9999",
        timeout_seconds: 1,
      });
      assert.equal(badChat.isError, true);
      assert.match(textOf(badChat), /no chat chat:9999/i);
    } finally {
      await session.close();
    }
  });

  it("notifies subscribers of a chat transcript when a message arrives there, and only there", async () => {
    let subscriptions: ReturnType<typeof enableChatSubscriptions> | undefined;
    const session = await connectRegistered((server) => {
      registerResources(server, deps);
      subscriptions = enableChatSubscriptions(server, store, { intervalMs: 60_000 });
    });
    const updated: string[] = [];
    session.client.setNotificationHandler("notifications/resources/updated", (n) => {
      updated.push(n.params.uri);
    });
    try {
      assert.equal(session.client.getServerCapabilities()?.resources?.subscribe, true);
      const aliceUri = `messages://chat/${chats.alice}`;
      await session.client.subscribeResource({ uri: aliceUri });
      const notifier = subscriptions?.notifier;
      assert.ok(notifier);
      assert.deepEqual(await notifier.poll(), []);

      arrive(chats.bob ?? 0, handles.bob ?? 0, "bob again");
      assert.deepEqual(await notifier.poll(), []);
      arrive(chats.alice ?? 0, handles.alice ?? 0, "alice again");
      assert.deepEqual(await notifier.poll(), [aliceUri]);
      assert.deepEqual(await notifier.poll(), []);
      // Notifications travel asynchronously; a ping round-trip makes sure the client has processed them.
      await session.client.ping();
      assert.deepEqual(updated, [aliceUri]);

      await session.client.unsubscribeResource({ uri: aliceUri });
      arrive(chats.alice ?? 0, handles.alice ?? 0, "unheard");
      assert.deepEqual(await notifier.poll(), []);

      await assert.rejects(session.client.subscribeResource({ uri: "messages://chat/9999" }), /no chat/i);
      await assert.rejects(
        session.client.subscribeResource({ uri: "file:///etc/passwd" }),
        /Only chat transcripts/,
      );
    } finally {
      await session.close();
      assert.deepEqual(subscriptions?.notifier.uris, []);
    }
  });
});
