// Date order and date windows on chat.db files built from Apple's schema: newest first by message.date (ties by
// ROWID) when ROWID order says otherwise, rows dated in seconds inside windows, cursors that neither skip nor
// repeat, and the query plans that keep a page O(page).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ChatDbWriter } from "../../src/demo/chatdb-writer.js";
import { APPLE_EPOCH_MS } from "../../src/messages/apple-time.js";
import { encodeAttributedBody } from "../../src/messages/codec.js";
import {
  dateKey,
  dateRanges,
  decodePosition,
  MergedDateOrder,
  type Position,
} from "../../src/messages/date-order.js";
import { type MessagesStore, openMessagesStore } from "../../src/messages/index.js";
import { SearchIndex } from "../../src/messages/search-index.js";
import type { Message, MessageQuery } from "../../src/messages/types.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const NOW = Date.UTC(2025, 5, 15, 12);

/** Seconds since 2001, as Macs before High Sierra stored `message.date`. */
function appleSeconds(ms: number): number {
  return Math.round((ms - APPLE_EPOCH_MS) / 1000);
}

interface Fixture {
  root: string;
  dbPath: string;
  writer: ChatDbWriter;
  chat: number;
  other: number;
  ann: number;
  /** label → ROWID */
  ids: Record<string, number>;
}

/**
 * Ann's chat: ROWID order differs from date order (a restore wrote the newest message first), two messages
 * share one date, and three old rows are dated in seconds (one of them imported with a high ROWID).
 */
function buildFixture(): Fixture {
  const root = mkdtempSync(join(tmpdir(), "mmcp-date-order-"));
  const dbPath = join(root, "Messages", "chat.db");
  const writer = new ChatDbWriter(dbPath);
  const ann = writer.addHandle({ id: "+15550100001", service: "iMessage" });
  const bob = writer.addHandle({ id: "+15550100002", service: "iMessage" });
  const chat = writer.addChat({
    identifier: "+15550100001",
    service: "iMessage",
    isGroup: false,
    participants: [ann],
  });
  const other = writer.addChat({
    identifier: "+15550100002",
    service: "iMessage",
    isGroup: false,
    participants: [bob],
  });
  const ids: Record<string, number> = {};
  const add = (label: string, ms: number, chatRowid = chat, handle = ann) => {
    ids[label] = writer.addMessage({
      chatRowid,
      handleRowid: handle,
      attributedBody: encodeAttributedBody(`${label} dinner plans`),
      date: new Date(ms),
      isFromMe: false,
      isRead: true,
      service: "iMessage",
    }).rowid;
  };
  add("five minutes ago", NOW - 5 * MINUTE); // ROWID 1, yet the newest
  add("one hour ago", NOW - HOUR);
  add("two hours ago", NOW - 2 * HOUR);
  add("three hours ago", NOW - 3 * HOUR);
  add("tie A", NOW - 4 * HOUR);
  add("tie B", NOW - 4 * HOUR);
  add("bob yesterday", NOW - 24 * HOUR, other, bob);
  add("2015 seconds", Date.UTC(2015, 2, 1, 9));
  add("2016 seconds", Date.UTC(2016, 7, 1, 9));
  add("2014 seconds imported late", Date.UTC(2014, 0, 1, 9));
  // Rows written before High Sierra keep seconds; Apple's trigger copies the date into chat_message_join.
  const toSeconds = writer.db.prepare("UPDATE message SET date = ? WHERE ROWID = ?");
  for (const [label, ms] of [
    ["2015 seconds", Date.UTC(2015, 2, 1, 9)],
    ["2016 seconds", Date.UTC(2016, 7, 1, 9)],
    ["2014 seconds imported late", Date.UTC(2014, 0, 1, 9)],
  ] as const) {
    toSeconds.run(appleSeconds(ms), ids[label]);
  }
  return { root, dbPath, writer, chat, other, ann, ids };
}

const labelsOf = (f: Fixture, messages: Message[]) =>
  messages.map((m) => Object.entries(f.ids).find(([, id]) => id === m.rowid)?.[0] ?? `#${m.rowid}`);

/** Every page of a query, walked with cursors. */
function allPages(
  store: MessagesStore,
  query: Omit<MessageQuery, "limit" | "cursor">,
  limit: number,
): Message[] {
  const seen: Message[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = store.getMessages({ ...query, limit, cursor });
    seen.push(...page);
    if (page.length < limit) return seen;
    cursor = page.at(-1)?.position;
  }
  throw new Error("paging did not end");
}

describe("date order", () => {
  let f: Fixture;
  let store: MessagesStore;
  before(() => {
    f = buildFixture();
    store = openMessagesStore(f.dbPath);
  });
  after(() => {
    store.close();
    f.writer.close();
    rmSync(f.root, { recursive: true, force: true });
  });

  const newestFirst = [
    "five minutes ago",
    "one hour ago",
    "two hours ago",
    "three hours ago",
    "tie B",
    "tie A",
    "2016 seconds",
    "2015 seconds",
    "2014 seconds imported late",
  ];

  test("newest first is message.date order, ties by ROWID, for a chat, a handle and all messages", () => {
    assert.deepEqual(labelsOf(f, store.getMessages({ limit: 1 })), ["five minutes ago"]);
    assert.deepEqual(labelsOf(f, store.getMessages({ chatRowids: [f.chat], limit: 20 })), newestFirst);
    assert.deepEqual(labelsOf(f, store.getMessages({ handleRowids: [f.ann], limit: 20 })), newestFirst);
    const all = labelsOf(f, store.getMessages({ limit: 20 }));
    assert.deepEqual(all, [...newestFirst.slice(0, 6), "bob yesterday", ...newestFirst.slice(6)]);
    assert.deepEqual(
      labelsOf(f, store.getMessages({ chatRowids: [f.chat, f.other], limit: 20 })),
      all,
      "two chats merge into one date order",
    );
    assert.deepEqual(labelsOf(f, store.getMessages({ limit: 20, order: "asc" })), [...all].reverse());
  });

  test("a chat's last message is its newest by date", () => {
    const chat = store.listChats({ limit: 10 }).find((c) => c.rowid === f.chat);
    assert.equal(chat?.lastMessage?.rowid, f.ids["five minutes ago"]);
  });

  test("cursors walk every message once, in order, whatever the page size", () => {
    for (const limit of [1, 2, 3, 4]) {
      for (const query of [
        {},
        { chatRowids: [f.chat] },
        { handleRowids: [f.ann] },
        { order: "asc" as const },
      ]) {
        const expected = labelsOf(f, store.getMessages({ ...query, limit: 50 }));
        assert.deepEqual(
          labelsOf(f, allPages(store, query, limit)),
          expected,
          `${JSON.stringify(query)} by ${limit}`,
        );
      }
    }
  });

  test("a cursor is the message's date key and ROWID, exact to the nanosecond", () => {
    const [first] = store.getMessages({ limit: 1 });
    const position = decodePosition(first!.position);
    assert.equal(position?.rowid, f.ids["five minutes ago"]);
    assert.equal(position?.key, BigInt(NOW - 5 * MINUTE - APPLE_EPOCH_MS) * 1_000_000n);
    assert.throws(() => store.getMessages({ limit: 1, cursor: "not a position" }), RangeError);
  });

  test("windows hold for rows dated in seconds as well as nanoseconds (since inclusive, until exclusive)", () => {
    const in2015 = { since: new Date(Date.UTC(2015, 0, 1)), until: new Date(Date.UTC(2016, 0, 1)) };
    for (const source of [{}, { chatRowids: [f.chat] }, { handleRowids: [f.ann] }]) {
      assert.deepEqual(labelsOf(f, store.getMessages({ ...source, ...in2015, limit: 10 })), ["2015 seconds"]);
      const exactly = {
        since: new Date(Date.UTC(2015, 2, 1, 9)),
        until: new Date(Date.UTC(2015, 2, 1, 9, 0, 1)),
      };
      assert.deepEqual(labelsOf(f, store.getMessages({ ...source, ...exactly, limit: 10 })), [
        "2015 seconds",
      ]);
      const endsAtIt = { until: new Date(Date.UTC(2015, 2, 1, 9)) };
      assert.deepEqual(labelsOf(f, store.getMessages({ ...source, ...endsAtIt, limit: 10 })), [
        "2014 seconds imported late",
      ]);
      const mixed = { since: new Date(Date.UTC(2016, 0, 1)), until: new Date(NOW - 2 * HOUR + 1) };
      const bob = "chatRowids" in source || "handleRowids" in source ? [] : ["bob yesterday"];
      assert.deepEqual(labelsOf(f, store.getMessages({ ...source, ...mixed, limit: 10 })), [
        "two hours ago",
        "three hours ago",
        "tie B",
        "tie A",
        ...bob,
        "2016 seconds",
      ]);
    }
    const chats = store.listChats({ limit: 10, since: new Date(NOW - 2 * HOUR) });
    assert.deepEqual(
      chats.map((c) => c.rowid),
      [f.chat],
    );
  });

  test("search answers in date order, through the scan and through the index alike", async () => {
    const scan = store.searchMessages({ text: "dinner", limit: 20 });
    assert.deepEqual(labelsOf(f, scan).slice(0, 3), ["five minutes ago", "one hour ago", "two hours ago"]);
    const windowed = store.searchMessages({
      text: "dinner",
      limit: 20,
      since: new Date(Date.UTC(2014, 0, 1)),
      until: new Date(Date.UTC(2016, 0, 1)),
    });
    assert.deepEqual(labelsOf(f, windowed), ["2015 seconds", "2014 seconds imported late"]);
    const index = SearchIndex.open(store, { stateDir: join(f.root, "state") });
    try {
      await index.build();
      assert.deepEqual(
        index.search({ text: "dinner", limit: 20 }),
        scan.map((m) => m.rowid),
      );
      assert.deepEqual(
        index.search({
          text: "dinner",
          limit: 20,
          since: new Date(Date.UTC(2014, 0, 1)),
          until: new Date(Date.UTC(2016, 0, 1)),
        }),
        windowed.map((m) => m.rowid),
      );
      const page1 = store.searchMessages({ text: "dinner", limit: 4 });
      const cursor = page1.at(-1)!.position;
      assert.deepEqual(
        index.search({ text: "dinner", limit: 4, cursor }),
        store.searchMessages({ text: "dinner", limit: 4, cursor }).map((m) => m.rowid),
      );
    } finally {
      index.close();
    }
  });
});

describe("date keys and windows", () => {
  test("seconds and nanoseconds denote the same instant", () => {
    const ms = Date.UTC(2016, 7, 1, 9);
    assert.equal(dateKey(appleSeconds(ms)), dateKey(BigInt(ms - APPLE_EPOCH_MS) * 1_000_000n));
    assert.equal(
      dateKey(String(BigInt(ms - APPLE_EPOCH_MS) * 1_000_000n)),
      BigInt(ms - APPLE_EPOCH_MS) * 1_000_000n,
    );
  });

  test("absurd values have no key and never throw", () => {
    for (const v of [
      1e300,
      -1e300,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      "1.0e+300",
      "garbage",
      null,
      undefined,
      {},
    ]) {
      assert.equal(dateKey(v), null, String(v));
    }
  });

  test("a window is one range per encoding, and an empty window none", () => {
    const day = { since: new Date(Date.UTC(2020, 0, 1)), until: new Date(Date.UTC(2020, 0, 2)) };
    const ranges = dateRanges(day);
    assert.equal(ranges.length, 2);
    assert.equal(ranges[1]!.scale, 1_000_000_000n);
    assert.equal(ranges[1]!.low, BigInt(appleSeconds(Date.UTC(2020, 0, 1))));
    assert.equal(ranges[1]!.high, BigInt(appleSeconds(Date.UTC(2020, 0, 2)) - 1));
    assert.deepEqual(dateRanges({ since: day.until, until: day.since }), []);
  });
});

describe("merging sources", () => {
  /** Two sources in newest-first order, rows numbered by age; `reads` records what each fetch asked for. */
  function merged(sources: Record<string, number[]>, firstBatch: number) {
    const reads: string[] = [];
    const rows = (name: string) =>
      (sources[name] ?? []).map((age) => ({ name, age, position: { key: BigInt(-age), rowid: age } }));
    const order = new MergedDateOrder(
      Object.keys(sources),
      "desc",
      (name, n, after: Position | null) => {
        reads.push(`${name}:${n}`);
        return rows(name)
          .filter((row) => after === null || row.position.key < after.key)
          .slice(0, n);
      },
      firstBatch,
    );
    return { order, reads };
  }
  const ages = (from: number, count: number, step = 1) =>
    Array.from({ length: count }, (_, i) => from + i * step);

  test("merges in date order, and reads no further than the page needs when one source has it all", () => {
    const { order, reads } = merged({ imessage: ages(1, 100), sms: ages(1000, 100) }, 5);
    assert.deepEqual(
      order.take(12).map((row) => row.age),
      ages(1, 12),
    );
    // Each source's first batch, then the one that has the page only for what the page still needs.
    assert.deepEqual(reads, ["imessage:5", "sms:5", "imessage:7"]);
  });

  test("interleaved sources give every row once, newest first, with or without a page size", () => {
    const { order } = merged({ imessage: ages(1, 40, 2), sms: ages(2, 40, 2) }, 3);
    assert.deepEqual(
      order.take(30).map((row) => row.age),
      ages(1, 30),
    );
    const rest: number[] = [];
    for (let row = order.next(); row !== undefined; row = order.next()) rest.push(row.age);
    assert.deepEqual(rest, ages(31, 50));
  });
});

describe("query plans on Apple's schema and indexes", () => {
  let f: Fixture;
  let store: MessagesStore;
  before(() => {
    f = buildFixture();
    // Enough rows that SQLite's planner sees a real table (ANALYZE-free, as on a Mac).
    f.writer.transaction(() => {
      for (let i = 0; i < 300; i++) {
        f.writer.addMessage({
          chatRowid: i % 2 === 0 ? f.chat : f.other,
          handleRowid: f.ann,
          text: `filler ${i}`,
          date: new Date(NOW - (i + 10) * HOUR),
          isFromMe: false,
          service: "iMessage",
        });
      }
    });
    store = openMessagesStore(f.dbPath);
  });
  after(() => {
    store.close();
    f.writer.close();
    rmSync(f.root, { recursive: true, force: true });
  });

  const window = { since: new Date(NOW - 100 * HOUR), until: new Date(NOW) };
  const reads: [string, (s: MessagesStore) => unknown, RegExp][] = [
    [
      "a chat's page",
      (s) => s.getMessages({ chatRowids: [f.chat], limit: 50 }),
      /chat_message_join_idx_message_date_id_chat_id/,
    ],
    [
      "a chat's page in a window",
      (s) => s.getMessages({ chatRowids: [f.chat], ...window, limit: 50 }),
      /chat_message_join_idx_message_date_id_chat_id/,
    ],
    [
      "a chat's later page",
      (s) =>
        s.getMessages({
          chatRowids: [f.chat],
          limit: 5,
          cursor: s.getMessages({ chatRowids: [f.chat], limit: 5 }).at(-1)!.position,
        }),
      /chat_message_join_idx_message_date_id_chat_id/,
    ],
    [
      "a contact's page",
      (s) => s.getMessages({ handleRowids: [f.ann], ...window, limit: 50 }),
      /message_idx_handle/,
    ],
    ["all messages", (s) => s.getMessages({ ...window, limit: 50 }), /message_idx_date/],
    [
      "a scan search in a chat",
      (s) => s.searchMessages({ text: "dinner", chatRowids: [f.chat], limit: 5 }),
      /chat_message_join_idx_message_date_id_chat_id/,
    ],
  ];
  for (const [name, read, index] of reads) {
    test(`${name} walks an index in order (no temporary sort)`, () => {
      const plans = store
        .queryPlans(read)
        .filter((p) => /ORDER BY/.test(p.sql) && !/message_date = 0/.test(p.sql));
      assert.ok(plans.length > 0, "no ordered read was traced");
      for (const { sql, plan } of plans) {
        const text = plan.join("\n");
        assert.doesNotMatch(text, /TEMP B-TREE/, `${sql}\n${text}`);
        assert.match(text, index, `${sql}\n${text}`);
      }
    });
  }

  // SQLite plans with the value bound to a bare `LIMIT ?`, so every run that binds it prepares the statement
  // again (see BOUND_LIMIT in sql.ts): none of a page's statements may have one.
  test("page reads keep their prepared statements: no bare LIMIT ?", () => {
    const polling: ((s: MessagesStore) => unknown)[] = [
      (s) => s.getMessages({ chatRowids: [f.chat], afterRowid: 0, limit: 5 }),
      (s) => s.getMessages({ afterRowid: 0, limit: 5 }),
    ];
    let limited = 0;
    for (const read of [...reads.map(([, read]) => read), ...polling]) {
      for (const { sql } of store.queryPlans(read)) {
        assert.doesNotMatch(sql, /\b(LIMIT|OFFSET)\s+\?/i, sql);
        if (/\bLIMIT\b/.test(sql)) limited++;
      }
    }
    assert.ok(limited > 0, "no read with a LIMIT was traced");
  });
});
