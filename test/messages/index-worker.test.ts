// The search index built in a worker thread: searches during the build answer from what is indexed plus a
// bounded look at the rest (and say so), two builders racing on one index both end up using it, and hostile
// values in chat.db (a date of 1e300, a number in message.text) never switch the index off or break reading.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Worker } from "node:worker_threads";
import { ChatDbWriter } from "../../src/demo/chatdb-writer.js";
import { encodeAttributedBody } from "../../src/messages/codec.js";
import { buildInWorker, IndexedMessagesReader } from "../../src/messages/indexed-reader.js";
import { SearchIndex } from "../../src/messages/search-index.js";
import { openMessagesStore } from "../../src/messages/store.js";

const HOUR = 3_600_000;
const BASE = Date.UTC(2025, 0, 1);
const WORDS = ["pancakes", "harbour", "violin", "meadow", "lantern"];

/** A chat.db of `count` messages in one chat, each mentioning one of WORDS, mostly in attributedBody. */
function buildDb(root: string, count: number): { dbPath: string; writer: ChatDbWriter } {
  const dbPath = join(root, "Messages", "chat.db");
  const writer = new ChatDbWriter(dbPath);
  writer.db.pragma("journal_mode = WAL");
  const ann = writer.addHandle({ id: "+15550100001", service: "iMessage" });
  const chat = writer.addChat({
    identifier: "+15550100001",
    service: "iMessage",
    isGroup: false,
    participants: [ann],
  });
  writer.transaction(() => {
    for (let i = 0; i < count; i++) {
      const text = `message ${i} about ${WORDS[i % WORDS.length]}`;
      writer.addMessage({
        chatRowid: chat,
        handleRowid: ann,
        ...(i % 3 === 0 ? { text } : { attributedBody: encodeAttributedBody(text) }),
        date: new Date(BASE + i * HOUR),
        isFromMe: i % 2 === 0,
        service: "iMessage",
      });
    }
  });
  return { dbPath, writer };
}

function tempRoot(t: { after: (fn: () => void) => void }, prefix: string): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

test("a search during the build answers from the indexed part plus a bounded look at the rest, and says so", async (t) => {
  const root = tempRoot(t, "mmcp-index-partial-");
  const { dbPath, writer } = buildDb(root, 1200);
  writer.close();
  const store = openMessagesStore(dbPath);
  t.after(() => store.close());
  const stateDir = join(root, "state");
  // Half indexed, as when a build was interrupted (or is still running).
  const first = SearchIndex.open(store, { stateDir, batchSize: 100 });
  await first.build({ maxBatches: 6 });
  assert.equal(first.watermark, 600);
  first.close();

  const query = { text: "violin", limit: 500 };
  const truth = store.searchMessages(query).map((m) => m.rowid);
  const reader = IndexedMessagesReader.open(store, { stateDir, syncIntervalMs: 0, partialScanRows: 200 });
  t.after(() => reader.close());
  // The first search starts the worker and answers at once, without waiting for it.
  const partial = reader.searchMessages(query).map((m) => m.rowid);
  assert.match(
    reader.searchNotice() ?? "",
    /still being built .*newest 200 of the rest; about 400 older messages were not searched/,
  );
  // Exactly the true matches among the indexed rows and the 200 newest unindexed ones, in date order.
  assert.deepEqual(
    partial,
    truth.filter((rowid) => rowid <= 600 || rowid > 1000),
  );

  // Once built, the answer is complete and says nothing more.
  await reader.prepareSearch();
  assert.equal(reader.indexReady, true);
  assert.deepEqual(
    reader.searchMessages(query).map((m) => m.rowid),
    truth,
  );
  assert.equal(reader.searchNotice(), null);
});

test("a search during the build reads the rest for a bounded time, whatever the row limit", async (t) => {
  const root = tempRoot(t, "mmcp-index-partial-time-");
  const { dbPath, writer } = buildDb(root, 1200);
  writer.close();
  const store = openMessagesStore(dbPath);
  t.after(() => store.close());
  const stateDir = join(root, "state");
  const first = SearchIndex.open(store, { stateDir, batchSize: 100 });
  await first.build({ maxBatches: 6 });
  first.close();

  const query = { text: "violin", limit: 500 };
  const truth = store.searchMessages(query).map((m) => m.rowid);
  // No time at all: the look at the rest stops at its first check of the clock (every 512 rows).
  const reader = IndexedMessagesReader.open(store, { stateDir, syncIntervalMs: 0, partialScanMs: 0 });
  t.after(() => reader.close());
  const partial = reader.searchMessages(query).map((m) => m.rowid);
  assert.match(
    reader.searchNotice() ?? "",
    /still being built .*newest 512 of the rest; about 88 older messages were not searched/,
  );
  assert.deepEqual(
    partial,
    truth.filter((rowid) => rowid <= 600 || rowid > 1200 - 512),
  );
});

test("two builders racing on one index both end up answering from it", async (t) => {
  const root = tempRoot(t, "mmcp-index-race-");
  const { dbPath, writer } = buildDb(root, 3000);
  writer.close();
  const stateDir = join(root, "state");
  const logs: string[] = [];
  const readers = [0, 1].map(() => {
    const store = openMessagesStore(dbPath);
    const reader = IndexedMessagesReader.open(store, {
      stateDir,
      syncIntervalMs: 0,
      batchSize: 200,
      log: (line) => logs.push(line),
    });
    t.after(() => reader.close());
    return { store, reader };
  });
  await Promise.all(readers.map(({ reader }) => reader.prepareSearch()));
  // Whichever lost a lock race retries; a reader whose build gave way finishes on its next search.
  for (let round = 0; round < 20 && readers.some(({ reader }) => !reader.indexReady); round++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    await Promise.all(readers.map(({ reader }) => reader.prepareSearch()));
  }
  for (const { store, reader } of readers) {
    assert.equal(reader.indexReady, true);
    const query = { text: "lantern", limit: 20 };
    assert.deepEqual(
      reader.searchMessages(query).map((m) => m.rowid),
      store.searchMessages(query).map((m) => m.rowid),
    );
    assert.equal(reader.searchNotice(), null);
  }
  assert.deepEqual(
    logs.filter((l) => /disabled|unavailable/i.test(l)),
    [],
  );
});

test("a worker that runs out of memory under its heap cap is run again without it, and the build completes", async (t) => {
  const root = tempRoot(t, "mmcp-index-oom-");
  const { dbPath, writer } = buildDb(root, 300);
  writer.close();
  const store = openMessagesStore(dbPath);
  t.after(() => store.close());
  const stateDir = join(root, "state");
  const workers: Worker[] = [];
  // A 1 MB old generation cannot even load the worker's modules: the first worker dies of it.
  await buildInWorker({ chatDbPath: dbPath, stateDir, batchSize: 100 }, undefined, (w) => workers.push(w), {
    maxYoungGenerationSizeMb: 1,
    maxOldGenerationSizeMb: 1,
  });
  assert.equal(workers.length, 2);
  const index = SearchIndex.open(store, { stateDir });
  t.after(() => index.close());
  assert.equal(index.ready, true);
  const query = { text: "meadow", limit: 50 };
  assert.deepEqual(
    index.search(query),
    store.searchMessages(query).map((m) => m.rowid),
  );
});

test("a date of 1e300 and non-text values in message.text neither break reading nor switch the index off", async (t) => {
  const root = tempRoot(t, "mmcp-index-hostile-");
  const { dbPath, writer } = buildDb(root, 50);
  const rows = writer.db.prepare("SELECT ROWID FROM message ORDER BY ROWID").all() as { ROWID: number }[];
  const [absurd, numeric, blob] = rows.map((r) => r.ROWID);
  writer.db
    .prepare(
      "UPDATE message SET date = 1e300, date_edited = 1e300, text = 'violin from the far future' WHERE ROWID = ?",
    )
    .run(absurd);
  writer.db.prepare("UPDATE message SET text = 42, attributedBody = NULL WHERE ROWID = ?").run(numeric);
  writer.db
    .prepare(
      "UPDATE message SET text = CAST('violin as a blob' AS BLOB), attributedBody = NULL WHERE ROWID = ?",
    )
    .run(blob);
  writer.close();
  const store = openMessagesStore(dbPath);
  const logs: string[] = [];
  const reader = IndexedMessagesReader.open(store, {
    stateDir: join(root, "state"),
    syncIntervalMs: 0,
    log: (l) => logs.push(l),
  });
  t.after(() => reader.close());

  const page = reader.getMessages({ limit: 100 });
  assert.equal(page.length, 49, "the row without a usable date is left out of date order");
  assert.ok(page.every((m) => typeof m.text === "string"));
  assert.equal(reader.getMessage(numeric!)?.text, "42");
  assert.equal(reader.getMessage(blob!)?.text, "violin as a blob");
  assert.equal(reader.getMessage(absurd!)?.text, "violin from the far future");

  await reader.prepareSearch();
  assert.equal(reader.indexReady, true);
  for (const text of ["violin", "42"]) {
    assert.deepEqual(
      reader.searchMessages({ text, limit: 50 }).map((m) => m.rowid),
      store.searchMessages({ text, limit: 50 }).map((m) => m.rowid),
    );
  }
  assert.ok(reader.searchMessages({ text: "violin as a blob", limit: 5 }).some((m) => m.rowid === blob));
  // A later sync re-checks edits with the 1e300 edit time in the table: still no trouble.
  await new Promise((resolve) => setTimeout(resolve, 5));
  reader.searchMessages({ text: "meadow", limit: 5 });
  assert.equal(reader.indexReady, true);
  assert.deepEqual(logs, []);
});

test("index answers equal the scan's in date order when ROWID order is shuffled and some dates lie in the future", async (t) => {
  const root = tempRoot(t, "mmcp-index-shuffled-");
  const dbPath = join(root, "Messages", "chat.db");
  const writer = new ChatDbWriter(dbPath);
  const ann = writer.addHandle({ id: "+15550100001", service: "iMessage" });
  const chat = writer.addChat({
    identifier: "+15550100001",
    service: "iMessage",
    isGroup: false,
    participants: [ann],
  });
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  writer.transaction(() => {
    for (let i = 0; i < 400; i++) {
      // Mostly in ROWID order with jitter, a block restored out of order, and a few dated next year.
      const hours = i < 100 ? 3000 - i * 3 : i % 50 === 0 ? 3_000 + 24 * 365 : i * 5 + random() * 40;
      writer.addMessage({
        chatRowid: chat,
        handleRowid: ann,
        attributedBody: encodeAttributedBody(`note ${i} about ${WORDS[Math.floor(random() * WORDS.length)]}`),
        date: new Date(Date.now() - 3_000 * HOUR + hours * HOUR),
        isFromMe: false,
        service: "iMessage",
      });
    }
  });
  writer.close();
  const store = openMessagesStore(dbPath);
  t.after(() => store.close());
  const index = SearchIndex.open(store, { stateDir: join(root, "state"), batchSize: 37 });
  t.after(() => index.close());
  await index.build();
  for (const text of [...WORDS, "note 1", "about"]) {
    for (const limit of [1, 5, 20, 500]) {
      assert.deepEqual(
        index.search({ text, limit }),
        store.searchMessages({ text, limit }).map((m) => m.rowid),
        `${text} / ${limit}`,
      );
    }
  }
});
