// The side search index must answer exactly like the linear scan (same rowids, same order), stay exact after
// chat.db changes (new rows, edits, unsends, deletions, a replaced file), resume interrupted builds, and never
// let a damaged index file break search.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ChatDbWriter } from "../../src/demo/chatdb-writer.js";
import { generateDemo } from "../../src/demo/generate.js";
import { encodeAttributedBody, encodeMessageSummaryInfo } from "../../src/messages/codec.js";
import { buildIndex, IndexedMessagesReader, progressToStderr } from "../../src/messages/indexed-reader.js";
import { SearchIndex, searchIndexPath } from "../../src/messages/search-index.js";
import { type MessagesStore, openMessagesStore } from "../../src/messages/store.js";
import type { MessagesReader, SearchQuery } from "../../src/messages/types.js";

const HOUR = 3_600_000;

/** Now as chat.db stores times: nanoseconds since 2001-01-01. */
function appleNow(): bigint {
  return BigInt(Date.now() - Date.UTC(2001, 0, 1)) * 1_000_000n;
}
const BASE = Date.UTC(2025, 4, 1, 12);

function tempDir(t: { after: (fn: () => void) => void } | null, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (t) t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Rowids the scan and the index give for a query; the index must be ready (search throws otherwise). */
function both(
  store: MessagesStore,
  index: SearchIndex,
  query: SearchQuery,
): { scan: number[]; indexed: number[] } {
  const scan = store.searchMessages(query).map((m) => m.rowid);
  const indexed = index.search(query);
  return { scan, indexed };
}

function assertSame(store: MessagesStore, index: SearchIndex, query: SearchQuery): number[] {
  const { scan, indexed } = both(store, index, query);
  assert.deepEqual(indexed, scan, `index and scan differ for ${JSON.stringify(query)}`);
  return scan;
}

/** The indexed reader (as the server uses it) answers exactly like the store's scan. */
function assertReaderMatchesScan(reader: MessagesReader, store: MessagesStore, query: SearchQuery): void {
  assert.deepEqual(
    reader.searchMessages(query).map((m) => m.rowid),
    store.searchMessages(query).map((m) => m.rowid),
    `reader and scan differ for ${JSON.stringify(query)}`,
  );
}

interface Fixture {
  dir: string;
  dbPath: string;
  writer: ChatDbWriter;
  chats: { ann: number; bob: number; group: number };
  handles: { ann: number; bob: number };
}

/** A small chat.db with text-only, attributedBody-only, tapback, unicode and LIKE-special rows. */
function buildFixture(dir: string): Fixture {
  const dbPath = join(dir, "Messages", "chat.db");
  const writer = new ChatDbWriter(dbPath);
  writer.db.pragma("journal_mode = WAL"); // like the real chat.db, and lets the test write while we read
  const ann = writer.addHandle({ id: "+15550100001", service: "iMessage" });
  const bob = writer.addHandle({ id: "bob@example.com", service: "iMessage" });
  const annChat = writer.addChat({
    identifier: "+15550100001",
    service: "iMessage",
    isGroup: false,
    participants: [ann],
  });
  const bobChat = writer.addChat({
    identifier: "bob@example.com",
    service: "iMessage",
    isGroup: false,
    participants: [bob],
  });
  const group = writer.addChat({
    identifier: "chat123",
    service: "iMessage",
    isGroup: true,
    displayName: "Climbing",
    participants: [ann, bob],
  });
  const texts = [
    "Hello there, are we still on for lunch tomorrow?",
    "𝖍𝖊𝖑𝖑𝖔 from the fancy keyboard",
    "Dinner at the Café Müller, 7pm",
    "100% sure — it's the a_b_c file",
    'She said "quoted words" twice',
    "STRASSE or Straße? Both fine",
    "👍 sounds good",
    "ok",
    "Restaurant reservation confirmed for Saturday",
    "the quick brown fox jumps over the lazy dog",
    "İstanbul trip photos",
    "Let's meet at the climbing gym tomorrow evening",
    "tomorrow works, see you at lunch",
    "x",
    "Lunch? 🍜",
  ];
  writer.transaction(() => {
    let i = 0;
    for (let round = 0; round < 6; round++) {
      for (const text of texts) {
        const chat = [annChat, bobChat, group][i % 3]!;
        const handle = chat === bobChat ? bob : chat === annChat ? ann : i % 2 === 0 ? ann : bob;
        const fromMe = i % 4 === 0;
        const date = new Date(BASE + i * HOUR);
        // Most rows keep their text only in attributedBody, as since Ventura.
        const body =
          i % 5 === 0
            ? { text: `${text} #${round}` }
            : { attributedBody: encodeAttributedBody(`${text} #${round}`) };
        const ref = writer.addMessage({
          chatRowid: chat,
          handleRowid: handle,
          date,
          isFromMe: fromMe,
          service: "iMessage",
          ...body,
        });
        if (i % 7 === 0) {
          // A tapback quoting the text: the scan skips these, so must the index.
          writer.addMessage({
            chatRowid: chat,
            handleRowid: handle,
            text: `Loved “${text}”`,
            associatedMessageGuid: `p:0/${ref.guid}`,
            associatedMessageType: 2000,
            date: new Date(date.getTime() + 60_000),
            isFromMe: !fromMe,
            service: "iMessage",
          });
        }
        i++;
      }
    }
    // A message with no text at all, and one whose body cannot be decoded.
    writer.addMessage({
      chatRowid: annChat,
      handleRowid: ann,
      date: new Date(BASE + i * HOUR),
      isFromMe: false,
      service: "iMessage",
    });
    writer.addMessage({
      chatRowid: annChat,
      handleRowid: ann,
      attributedBody: Buffer.from("not a typedstream"),
      date: new Date(BASE + (i + 1) * HOUR),
      isFromMe: false,
      service: "iMessage",
    });
  });
  // One message joined to two chats (chat_message_join allows it).
  const shared = writer.addMessage({
    chatRowid: annChat,
    handleRowid: ann,
    text: "shared lunch note",
    date: new Date(BASE + 200 * HOUR),
    isFromMe: false,
    service: "iMessage",
  });
  writer.db
    .prepare("INSERT INTO chat_message_join (chat_id, message_id, message_date) VALUES (?, ?, 0)")
    .run(group, shared.rowid);
  return { dir, dbPath, writer, chats: { ann: annChat, bob: bobChat, group }, handles: { ann, bob } };
}

const SUBSTRINGS = [
  "hello",
  "HELLO",
  "ell",
  "lunch",
  "lunch tomorrow",
  "o",
  "he",
  "ok",
  "x",
  "%",
  "_",
  "100%",
  "a_b",
  '"quoted',
  "👍",
  "🍜",
  "café",
  "MÜLLER",
  "straße",
  "strasse",
  "i̇stanbul",
  "İstanbul",
  "fox jumps",
  "#3",
  " ",
  "",
  "nothing like this anywhere",
  "loved",
];
const FUZZY = [
  "lunch",
  "lnuch tomorow",
  "restaurnt",
  "resturant reservaton",
  "tommorrow evening",
  "helo",
  "ok",
  "gym climbing",
  "qiuck brwn",
  "zzzzzz",
  "fox",
  "ab",
];

function queriesFor(f: Fixture): SearchQuery[] {
  const filters: Omit<SearchQuery, "text">[] = [
    { limit: 100 },
    { limit: 3 },
    { limit: 1, order: "asc" },
    { limit: 5, order: "asc" },
    { limit: 50, chatRowids: [f.chats.group] },
    { limit: 50, chatRowids: [f.chats.ann, f.chats.bob] },
    { limit: 50, handleRowids: [f.handles.bob] },
    { limit: 50, since: new Date(BASE + 20 * HOUR), until: new Date(BASE + 60 * HOUR) },
    { limit: 50, since: new Date(BASE + 30 * HOUR) }, // exactly a message's date: the bound is inclusive
    { limit: 4, cursor: `${BigInt(BASE + 40 * HOUR - Date.UTC(2001, 0, 1)) * 1_000_000n}:60` },
    { limit: 4, afterRowid: 30, order: "asc" },
  ];
  const queries: SearchQuery[] = [];
  for (const filter of filters) {
    for (const text of SUBSTRINGS) queries.push({ ...filter, text });
    for (const text of FUZZY) queries.push({ ...filter, text, mode: "fuzzy" });
  }
  return queries;
}

function assertAllSame(store: MessagesStore, index: SearchIndex, queries: SearchQuery[]): number {
  let nonEmpty = 0;
  for (const query of queries) if (assertSame(store, index, query).length > 0) nonEmpty++;
  return nonEmpty;
}

describe("search index on a hand-built chat.db", () => {
  let root: string;
  let f: Fixture;
  let store: MessagesStore;
  let index: SearchIndex;
  let stateDir: string;

  before(async () => {
    root = tempDir(null, "search-index-");
    f = buildFixture(root);
    store = openMessagesStore(f.dbPath);
    stateDir = join(root, "state");
    index = SearchIndex.open(store, { stateDir, batchSize: 17 });
    const result = await index.build();
    assert.equal(result.ready, true);
  });
  after(() => {
    index.close();
    store.close();
    f.writer.close();
    rmSync(root, { recursive: true, force: true });
  });

  test("the index file is private, in a private directory, named after the chat.db path", () => {
    assert.equal(index.path, searchIndexPath(stateDir, f.dbPath));
    assert.equal(statSync(stateDir).mode & 0o777, 0o700);
    assert.equal(statSync(index.path).mode & 0o777, 0o600);
    assert.notEqual(searchIndexPath(stateDir, "/other/chat.db"), index.path);
  });

  test("gives the scan's answers for substring, fuzzy, short, LIKE-special and unicode queries with every filter", () => {
    const queries = queriesFor(f);
    const nonEmpty = assertAllSame(store, index, queries);
    // Guard against a vacuous comparison: most queries must find something.
    assert.ok(nonEmpty > queries.length / 2, `only ${nonEmpty} of ${queries.length} queries found anything`);
    assert.ok(index.search({ text: "100%", limit: 10 }).length > 0);
    assert.ok(index.search({ text: "lnuch tomorow", mode: "fuzzy", limit: 10 }).length > 0);
    assert.deepEqual(index.search({ text: "loved", limit: 10 }), [], "tapbacks are not searchable");
  });

  test("paging with a cursor walks the same pages as the scan", () => {
    for (const mode of ["substring", "fuzzy"] as const) {
      let cursor: string | undefined;
      let pages = 0;
      for (;;) {
        const query: SearchQuery = { text: "lunch", mode, limit: 4, cursor };
        const page = assertSame(store, index, query);
        if (page.length === 0) break;
        cursor = store.getMessage(page.at(-1)!)!.position;
        pages++;
      }
      assert.ok(pages >= 3, `${mode}: expected several pages, got ${pages}`);
    }
  });

  test("a message in two chats is found through either chat", () => {
    const inGroup = assertSame(store, index, {
      text: "shared lunch note",
      limit: 5,
      chatRowids: [f.chats.group],
    });
    const inAnn = assertSame(store, index, {
      text: "shared lunch note",
      limit: 5,
      chatRowids: [f.chats.ann],
    });
    assert.equal(inGroup.length, 1);
    assert.deepEqual(inGroup, inAnn);
  });

  test("stays exact after new messages, an edit, an unsend and a deletion (through the reader)", () => {
    const reader = new IndexedMessagesReader(store, index, { stateDir, syncIntervalMs: 0, autoBuild: false });
    const newest = f.writer.addMessage({
      chatRowid: f.chats.bob,
      handleRowid: f.handles.bob,
      attributedBody: encodeAttributedBody("Brand new flamingo message"),
      date: new Date(Date.now() - 5 * 60_000),
      isFromMe: false,
      service: "iMessage",
    });
    assert.deepEqual(
      reader.searchMessages({ text: "flamingo", limit: 5 }).map((m) => m.rowid),
      [newest.rowid],
    );

    // Edit: Messages rewrites attributedBody, message_summary_info and date_edited in place.
    // Edits carry the time they were made (now); the index re-reads rows edited after its last mark.
    const editDate = new Date();
    f.writer.db
      .prepare(
        "UPDATE message SET attributedBody = ?, message_summary_info = ?, date_edited = ? WHERE ROWID = ?",
      )
      .run(
        encodeAttributedBody("Brand new pelican message"),
        encodeMessageSummaryInfo({
          editedParts: [0],
          unsentParts: [],
          history: {
            0: [
              { date: new Date(Date.now() - 5 * 60_000), text: "Brand new flamingo message" },
              { date: editDate, text: "Brand new pelican message" },
            ],
          },
        }),
        appleNow(),
        newest.rowid,
      );
    assert.deepEqual(reader.searchMessages({ text: "flamingo", limit: 5 }), []);
    assert.deepEqual(
      reader.searchMessages({ text: "pelican", limit: 5 }).map((m) => m.rowid),
      [newest.rowid],
    );
    assert.deepEqual(
      reader.searchMessages({ text: "pelcan", mode: "fuzzy", limit: 5 }).map((m) => m.rowid),
      [newest.rowid],
    );

    // Unsend (Messages allows it within 2 minutes): text and body are removed and date_retracted set.
    const victim = f.writer.addMessage({
      chatRowid: f.chats.ann,
      handleRowid: f.handles.ann,
      attributedBody: encodeAttributedBody("Oops, wrong restaurant chat"),
      date: new Date(Date.now() - 60_000),
      isFromMe: true,
      service: "iMessage",
    });
    assert.deepEqual(
      reader.searchMessages({ text: "wrong restaurant", limit: 5 }).map((m) => m.rowid),
      [victim.rowid],
    );
    f.writer.db
      .prepare(
        "UPDATE message SET text = NULL, attributedBody = NULL, date_retracted = ?, message_summary_info = ? WHERE ROWID = ?",
      )
      .run(
        appleNow(),
        encodeMessageSummaryInfo({ editedParts: [], unsentParts: [0], history: {} }),
        victim.rowid,
      );
    assert.deepEqual(reader.searchMessages({ text: "wrong restaurant", limit: 5 }), []);
    assert.ok(
      !reader.searchMessages({ text: "restaurant", limit: 100 }).some((m) => m.rowid === victim.rowid),
    );

    // Delete a message (the user deleted it): hits are hydrated from chat.db, so the page is still full.
    const lunch = store.searchMessages({ text: "lunch", limit: 3 }).map((m) => m.rowid);
    f.writer.db.prepare("DELETE FROM message WHERE ROWID = ?").run(lunch[0]);
    assertReaderMatchesScan(reader, store, { text: "lunch", limit: 3 });

    // And every query still agrees with the scan on the changed database.
    index.sync();
    assertAllSame(store, index, queriesFor(f));
  });

  test("an old message changed outside Messages' edit window is caught by the daily sweep, not by every process", () => {
    const old = store.searchMessages({ text: "quick brown fox", limit: 1 })[0]!;
    f.writer.db
      .prepare("UPDATE message SET text = NULL, attributedBody = ?, date_edited = ? WHERE ROWID = ?")
      .run(encodeAttributedBody("the slow green turtle"), appleNow(), old.rowid);
    // Syncs re-check only recently sent messages (Messages' edit window), in this process and a new one alike.
    index.sync();
    const reopened = SearchIndex.open(store, { stateDir });
    try {
      reopened.sync();
      assert.deepEqual(reopened.search({ text: "green turtle", limit: 5 }), []);
      assert.equal(reopened.sweepDue, false, "a fresh build has just read every row");
      // The daily sweep (run by the index worker) reads every edited row once.
      assert.ok(reopened.sweepEdits() >= 1);
      assert.ok(assertSame(store, reopened, { text: "green turtle", limit: 5 }).includes(old.rowid));
      assertSame(store, reopened, { text: "quick brown fox", limit: 5 });
    } finally {
      reopened.close();
    }
  });
});

describe("search index on generated demo data", () => {
  test("matches the scan for words and fragments taken from the messages, with typos", async (t) => {
    const dir = tempDir(t, "search-index-demo-");
    const demo = generateDemo({ dir, messages: 1500, seed: 7, now: new Date(BASE) });
    const store = openMessagesStore(demo.chatDb);
    const index = SearchIndex.open(store, { stateDir: join(dir, "state") });
    t.after(() => {
      index.close();
      store.close();
    });
    await index.build();
    const texts = store
      .getMessages({ limit: 1500 })
      .map((m) => m.text)
      .filter((text): text is string => text !== null && text.length > 8);
    assert.ok(texts.length > 500);
    const queries: SearchQuery[] = [];
    for (const [i, text] of texts.entries()) {
      if (i % 9 !== 0) continue;
      const start = i % Math.max(1, text.length - 6);
      // By code point: a query cut through an emoji's surrogate pair is not something a person types.
      queries.push({ text: [...text].slice(start, start + 3 + (i % 7)).join(""), limit: 20 });
      const words = text.split(/\s+/).filter((w) => w.length >= 4);
      const word = words[i % Math.max(1, words.length)];
      if (word) {
        // One typo: a swapped pair, a dropped letter, a doubled one.
        const typo = [
          word.slice(0, 1) + word.slice(2, 3) + word.slice(1, 2) + word.slice(3),
          word.slice(0, -1),
          word + word.at(-1),
        ][i % 3]!;
        queries.push({ text: typo, mode: "fuzzy", limit: 20 });
        queries.push({ text: `${typo} ${words[0] ?? ""}`, mode: "fuzzy", limit: 10, order: "asc" });
      }
    }
    const nonEmpty = assertAllSame(store, index, queries);
    assert.ok(nonEmpty > queries.length * 0.8, `${nonEmpty}/${queries.length} found something`);
  });
});

describe("building", () => {
  test("an interrupted build resumes where it stopped, and progress counts from there", async (t) => {
    const root = tempDir(t, "search-index-resume-");
    const f = buildFixture(root);
    f.writer.close();
    const store = openMessagesStore(f.dbPath);
    t.after(() => store.close());
    const stateDir = join(root, "state");
    const total = store.getMessages({ limit: 10_000 }).length; // non-tapback rows; the build reads all rows

    const first = SearchIndex.open(store, { stateDir, batchSize: 20 });
    const stopped = await first.build({ maxBatches: 2 });
    assert.deepEqual(stopped, { scanned: 40, ready: false });
    assert.equal(first.watermark > 0, true);
    assert.throws(() => first.search({ text: "lunch", limit: 5 }), /not built yet/);
    // Meanwhile the reader answers by scan.
    const reader = new IndexedMessagesReader(store, first, { stateDir, autoBuild: false });
    assertReaderMatchesScan(reader, store, { text: "lunch", limit: 5 });
    first.close();

    const second = SearchIndex.open(store, { stateDir, batchSize: 20 });
    t.after(() => second.close());
    const progress: [number, number][] = [];
    const resumed = await second.build({ onProgress: (done, all) => progress.push([done, all]) });
    assert.equal(resumed.ready, true);
    assert.deepEqual(progress[0], [40, progress[0]![1]], "progress starts at what was already indexed");
    const [lastDone, lastTotal] = progress.at(-1)!;
    assert.equal(lastDone, lastTotal);
    assert.ok(lastTotal > total, "all rows, tapbacks included, were read");
    assert.equal(resumed.scanned, lastTotal - 40);
    assertAllSame(store, second, queriesFor(f));
  });

  test("a build killed mid-way in another process resumes in this one", async (t) => {
    const dir = tempDir(t, "search-index-kill-");
    const demo = generateDemo({ dir, messages: 6000, seed: 3, now: new Date(BASE) });
    const stateDir = join(dir, "state");
    const script = `
      import { openMessagesStore } from ${JSON.stringify(join(process.cwd(), "src/messages/store.ts"))};
      import { SearchIndex } from ${JSON.stringify(join(process.cwd(), "src/messages/search-index.ts"))};
      const store = openMessagesStore(${JSON.stringify(demo.chatDb)});
      const index = SearchIndex.open(store, { stateDir: ${JSON.stringify(stateDir)}, batchSize: 200 });
      await index.build({ onProgress: (done) => { if (done >= 1000) process.stdout.write("go\\n"); } });
      // Keeps going slowly if not killed, so the kill always lands mid-build.
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    t.after(() => child.kill("SIGKILL"));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", () => {
        child.kill("SIGKILL");
        resolve();
      });
      child.on("exit", () => resolve());
      child.on("error", reject);
    });
    await new Promise((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once("exit", resolve),
    );
    const store = openMessagesStore(demo.chatDb);
    t.after(() => store.close());
    const index = SearchIndex.open(store, { stateDir, batchSize: 200 });
    t.after(() => index.close());
    assert.ok(index.watermark >= 1000, `watermark ${index.watermark} survived the kill`);
    const progress: number[] = [];
    await index.build({ onProgress: (done) => progress.push(done) });
    assert.ok(progress[0]! >= 1000, "resumed, not restarted");
    for (const text of ["dinner", "tomorrow", "ok", "the", "see you"])
      assertSame(store, index, { text, limit: 30 });
  });

  test("buildIndex reports progress and the reader then answers from the index", async (t) => {
    const root = tempDir(t, "search-index-build-");
    const f = buildFixture(root);
    f.writer.close();
    const store = openMessagesStore(f.dbPath);
    const stateDir = join(root, "state");
    const lines: string[] = [];
    const built = await buildIndex(store, {
      stateDir,
      onProgress: progressToStderr((line) => lines.push(line)),
      batchSize: 10,
    });
    assert.ok(built.documents > 80);
    assert.match(lines.at(-1)!, /Indexing messages for search: 100% \(\d+\/\d+\)/);
    const reader = IndexedMessagesReader.open(store, { stateDir, syncIntervalMs: 0 });
    t.after(() => reader.close());
    assert.equal(reader.indexReady, true);
    assertReaderMatchesScan(reader, store, { text: "café", limit: 10 });
  });

  test("the first search starts a background build; prepareSearch reports progress until it is ready", async (t) => {
    const root = tempDir(t, "search-index-auto-");
    const f = buildFixture(root);
    f.writer.close();
    const store = openMessagesStore(f.dbPath);
    const stateDir = join(root, "state");
    const reader = IndexedMessagesReader.open(store, { stateDir, syncIntervalMs: 0 });
    t.after(() => reader.close());
    assert.equal(reader.indexReady, false);
    const scanned = reader.searchMessages({ text: "lunch", limit: 5 }).map((m) => m.rowid);
    assert.equal(scanned.length, 5);
    const seen: number[] = [];
    await reader.prepareSearch({ onProgress: (done, total) => seen.push(done / total) });
    assert.equal(reader.indexReady, true);
    assert.equal(seen.at(-1), 1);
    assert.deepEqual(
      reader.searchMessages({ text: "lunch", limit: 5 }).map((m) => m.rowid),
      scanned,
    );
  });
});

describe("robustness", () => {
  test("a garbage index file is moved aside and a fresh index built", async (t) => {
    const root = tempDir(t, "search-index-garbage-");
    const f = buildFixture(root);
    f.writer.close();
    const store = openMessagesStore(f.dbPath);
    const stateDir = join(root, "state");
    const path = searchIndexPath(stateDir, f.dbPath);
    await buildIndex(store, { stateDir });
    writeFileSync(path, "this is not a database, just some text that is long enough ".repeat(200));
    rmSync(`${path}-wal`, { force: true });
    rmSync(`${path}-shm`, { force: true });
    const logs: string[] = [];
    const reader = IndexedMessagesReader.open(store, {
      stateDir,
      syncIntervalMs: 0,
      log: (l) => logs.push(l),
    });
    t.after(() => reader.close());
    assert.ok(
      readdirSync(stateDir).some((name) => name.includes(".corrupt-")),
      "the bad file was kept aside",
    );
    const expected = store.searchMessages({ text: "hello", limit: 10 }).map((m) => m.rowid);
    assert.deepEqual(
      reader.searchMessages({ text: "hello", limit: 10 }).map((m) => m.rowid),
      expected,
    );
    await reader.prepareSearch();
    assert.equal(reader.indexReady, true);
    assert.deepEqual(
      reader.searchMessages({ text: "hello", limit: 10 }).map((m) => m.rowid),
      expected,
    );
  });

  test("damaged pages inside a built index never break search; it is moved aside and rebuilt", async (t) => {
    const dir = tempDir(t, "search-index-corrupt-");
    const demo = generateDemo({ dir, messages: 3000, seed: 5, now: new Date(BASE) });
    const store = openMessagesStore(demo.chatDb);
    const stateDir = join(dir, "state");
    const built = await buildIndex(store, { stateDir });
    // Overwrite everything after the first pages (schema stays readable, FTS and doc pages are garbage).
    const size = statSync(built.path).size;
    const fd = await import("node:fs/promises").then((fs) => fs.open(built.path, "r+"));
    await fd.write(Buffer.alloc(size - 8192, 0x5a), 0, size - 8192, 8192);
    await fd.close();
    const logs: string[] = [];
    const reader = IndexedMessagesReader.open(store, {
      stateDir,
      syncIntervalMs: 0,
      log: (l) => logs.push(l),
    });
    t.after(() => reader.close());
    for (const text of ["dinner", "tomorrow", "ok"]) {
      assertReaderMatchesScan(reader, store, { text, limit: 10 });
    }
    assert.ok(
      readdirSync(stateDir).some((name) => name.includes(".corrupt-")),
      `moved aside (logs: ${logs.join(" | ")})`,
    );
    await reader.prepareSearch();
    assert.equal(reader.indexReady, true);
    assertReaderMatchesScan(reader, store, { text: "dinner", limit: 10 });
  });

  test("a replaced chat.db at the same path is noticed and the index rebuilt", async (t) => {
    const root = tempDir(t, "search-index-replace-");
    const f = buildFixture(root);
    f.writer.close();
    const stateDir = join(root, "state");
    let store = openMessagesStore(f.dbPath);
    await buildIndex(store, { stateDir });
    store.close();
    // Another database appears at the same path (restored backup, new Mac): fewer rows, other guids.
    for (const suffix of ["", "-wal", "-shm"]) rmSync(f.dbPath + suffix, { force: true });
    const other = new ChatDbWriter(f.dbPath);
    const h = other.addHandle({ id: "+15550199999", service: "SMS" });
    const c = other.addChat({
      identifier: "+15550199999",
      service: "SMS",
      isGroup: false,
      participants: [h],
    });
    other.addMessage({
      chatRowid: c,
      handleRowid: h,
      text: "hello from the replacement",
      date: new Date(BASE),
      isFromMe: false,
      service: "SMS",
    });
    other.close();
    store = openMessagesStore(f.dbPath);
    const index = SearchIndex.open(store, { stateDir });
    t.after(() => {
      index.close();
      store.close();
    });
    assert.equal(index.sync().reset, true);
    assert.equal(index.ready, false);
    await index.build();
    assert.deepEqual(index.search({ text: "hello", limit: 10 }), [1]);
    assert.ok(!existsSync(join(stateDir, "nonexistent")));
  });

  test("an unusable state directory means plain scanning, with a notice", (t) => {
    const root = tempDir(t, "search-index-nostate-");
    const f = buildFixture(root);
    f.writer.close();
    const store = openMessagesStore(f.dbPath);
    const blocker = join(root, "file-not-dir");
    writeFileSync(blocker, "");
    const logs: string[] = [];
    const reader = IndexedMessagesReader.open(store, {
      stateDir: join(blocker, "state"),
      log: (l) => logs.push(l),
    });
    t.after(() => reader.close());
    assert.equal(reader.indexReady, false);
    assert.match(logs.join("\n"), /Search index unavailable/);
    assertReaderMatchesScan(reader, store, { text: "lunch", limit: 3 });
  });
});
