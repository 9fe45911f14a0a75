import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { inflateSync } from "node:zlib";
import Database from "better-sqlite3";
import { ensureDemoData, generateDemo } from "../../src/demo/index.js";
import { crc32 } from "../../src/demo/sample-files.js";
import { attributedBodyText, parseMessageSummaryInfo } from "../../src/messages/codec.js";
import { resolveAttachmentPath } from "../../src/messages/index.js";

const root = mkdtempSync(join(tmpdir(), "demo-generate-test-"));
after(() => rmSync(root, { recursive: true, force: true }));
const NOW = new Date("2025-06-01T18:00:00Z");
const APPLE_EPOCH_MS = Date.UTC(2001, 0, 1);
const appleNanos = (ms: number) => (ms - APPLE_EPOCH_MS) * 1e6;

function open(path: string) {
  return new Database(path, { readonly: true, fileMustExist: true });
}

/** Every message's best text (text column, else decoded attributedBody), in ROWID order. */
function allTexts(chatDb: string): (string | null)[] {
  const db = open(chatDb);
  try {
    const rows = db.prepare("SELECT text, attributedBody FROM message ORDER BY ROWID").all() as {
      text: string | null;
      attributedBody: Buffer | null;
    }[];
    return rows.map((r) => r.text ?? attributedBodyText(r.attributedBody));
  } finally {
    db.close();
  }
}

describe("generateDemo (default size)", () => {
  let paths: ReturnType<typeof generateDemo>;
  let db: Database.Database;
  const one = <T>(sql: string, ...params: unknown[]) =>
    db
      .prepare(sql)
      .pluck()
      .get(...params) as T;

  before(() => {
    paths = generateDemo({ dir: join(root, "default"), now: NOW, seed: 7 });
    db = open(paths.chatDb);
  });
  after(() => db?.close());

  test("lays out chat.db, attachments and both Contacts stores", () => {
    assert.ok(statSync(paths.chatDb).size > 0);
    assert.ok(existsSync(join(paths.contactsRoot, "AddressBook-v22.abcddb")));
    const sources = readdirSync(join(paths.contactsRoot, "Sources"));
    assert.equal(sources.length, 1);
    assert.match(sources[0] ?? "", /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
    assert.ok(existsSync(join(paths.contactsRoot, "Sources", sources[0] ?? "", "AddressBook-v22.abcddb")));
    assert.ok(paths.attachmentsDir.startsWith(paths.dir));
  });

  test("has the requested number of messages, on all three services, none in the future", () => {
    assert.equal(one("SELECT count(*) FROM message"), 2500);
    const services = db.prepare("SELECT service, count(*) AS n FROM message GROUP BY service").all() as {
      service: string;
      n: number;
    }[];
    const byService = Object.fromEntries(services.map((s) => [s.service, s.n]));
    assert.ok(
      (byService.iMessage ?? 0) > 1000 && (byService.SMS ?? 0) > 10 && (byService.RCS ?? 0) > 5,
      JSON.stringify(byService),
    );
    assert.ok(one<number>("SELECT max(date) FROM message") < appleNanos(NOW.getTime()));
    assert.ok(
      one<number>("SELECT min(date) FROM message") < appleNanos(NOW.getTime() - 150 * 86_400_000),
      "months of history",
    );
    const lastDay = one<number>(
      "SELECT count(*) FROM message WHERE date > ?",
      appleNanos(NOW.getTime() - 86_400_000),
    );
    assert.ok(lastDay >= 30, `last 24 hours has ${lastDay} messages`);
    assert.equal(
      one(
        "SELECT count(*) FROM message m LEFT JOIN chat_message_join j ON j.message_id = m.ROWID WHERE j.chat_id IS NULL",
      ),
      0,
    );
  });

  test("handles use Messages' canonical forms; some are not in Contacts", () => {
    const ids = db.prepare("SELECT id FROM handle").pluck().all() as string[];
    for (const id of ids) {
      assert.ok(/^\+1\d{10}$/.test(id) || /^[a-z0-9.]+@[a-z0-9.]+$/.test(id) || /^\d{5,6}$/.test(id), id);
    }
    assert.ok(ids.includes("+15550109999") && ids.includes("jordan.blake@example.net"));
    const contacts = new Database(
      join(
        paths.contactsRoot,
        "Sources",
        readdirSync(join(paths.contactsRoot, "Sources"))[0] ?? "",
        "AddressBook-v22.abcddb",
      ),
      { readonly: true },
    );
    try {
      const numbers = contacts.prepare("SELECT ZFULLNUMBER FROM ZABCDPHONENUMBER").pluck().all() as string[];
      assert.ok(numbers.includes("+1 (555) 010-0101") && numbers.includes("5550100102"), numbers.join(", "));
      assert.ok(!numbers.includes("+15550109999"));
      const emails = contacts.prepare("SELECT ZADDRESS FROM ZABCDEMAILADDRESS").pluck().all() as string[];
      assert.ok(emails.includes("OLIVIA.NGUYEN@Gmail.com"));
    } finally {
      contacts.close();
    }
  });

  test("has one-to-one and group chats, one named and one unnamed group, and a rename event", () => {
    const groups = db
      .prepare("SELECT display_name, service_name FROM chat WHERE style = 43 ORDER BY ROWID")
      .all();
    assert.deepEqual(groups, [
      { display_name: "Weekend Crew 🏕️", service_name: "iMessage" },
      { display_name: "", service_name: "iMessage" },
      { display_name: "", service_name: "SMS" },
    ]);
    assert.ok(one<number>("SELECT count(*) FROM chat WHERE style = 45") >= 20);
    const rename = db
      .prepare("SELECT item_type, group_title, text, is_from_me FROM message WHERE item_type = 2")
      .all();
    assert.deepEqual(rename, [{ item_type: 2, group_title: "Weekend Crew 🏕️", text: null, is_from_me: 1 }]);
  });

  test("has every tapback kind, targeting p:0/<guid> of real messages", () => {
    const types = db
      .prepare("SELECT DISTINCT associated_message_type FROM message WHERE associated_message_type > 0")
      .pluck()
      .all() as number[];
    for (const type of [2000, 2001, 2002, 2003, 2004, 2005, 2006, 3001])
      assert.ok(types.includes(type), `type ${type}`);
    const emoji = db
      .prepare("SELECT associated_message_emoji FROM message WHERE associated_message_type = 2006")
      .pluck()
      .all();
    assert.ok(emoji.includes("🍎"));
    const orphans = one<number>(
      `SELECT count(*) FROM message t WHERE t.associated_message_type > 0 AND NOT EXISTS
         (SELECT 1 FROM message m WHERE 'p:0/' || m.guid = t.associated_message_guid)`,
    );
    assert.equal(orphans, 0);
    const removal = db
      .prepare("SELECT text, attributedBody FROM message WHERE associated_message_type = 3001")
      .get() as {
      text: string | null;
      attributedBody: Buffer | null;
    };
    assert.equal(
      removal.text ?? attributedBodyText(removal.attributedBody),
      "Removed a like from “Are we still doing the farmers market Saturday?”",
    );
  });

  test("has text-only, both-column and attributedBody-only rows that decode with the real decoder", () => {
    assert.ok(
      one<number>("SELECT count(*) FROM message WHERE text IS NOT NULL AND attributedBody IS NULL") > 100,
    );
    assert.ok(
      one<number>("SELECT count(*) FROM message WHERE text IS NOT NULL AND attributedBody IS NOT NULL") > 100,
    );
    const modern = db
      .prepare("SELECT attributedBody FROM message WHERE text IS NULL AND attributedBody IS NOT NULL")
      .pluck()
      .all() as Buffer[];
    assert.ok(modern.length > 1000);
    for (const blob of modern) assert.equal(typeof attributedBodyText(blob), "string");
    const both = db
      .prepare(
        "SELECT text, attributedBody FROM message WHERE text IS NOT NULL AND attributedBody IS NOT NULL",
      )
      .all() as {
      text: string;
      attributedBody: Buffer;
    }[];
    for (const row of both) assert.equal(attributedBodyText(row.attributedBody), row.text);
    const pad = db
      .prepare(
        "SELECT text, attributedBody FROM message WHERE associated_message_type = 0 AND attributedBody IS NOT NULL AND text IS NULL",
      )
      .all() as { attributedBody: Buffer }[];
    assert.ok(
      pad
        .map((r) => attributedBodyText(r.attributedBody))
        .includes("Running 15 min late, order me the pad thai pls"),
    );
  });

  test("has an edited and an unsent message with parseable summary info", () => {
    const edited = db
      .prepare(
        "SELECT message_summary_info, date, date_edited, attributedBody FROM message WHERE date_edited > 0 AND text IS NULL",
      )
      .get() as {
      message_summary_info: Buffer;
      date: number;
      date_edited: number;
    };
    assert.ok(edited.date_edited > edited.date);
    const info = parseMessageSummaryInfo(edited.message_summary_info);
    assert.deepEqual(info?.editedParts, [0]);
    assert.deepEqual(
      info?.history[0]?.map((r) => r.text),
      ["Running 5 min late", "Running 15 min late, order me the pad thai pls"],
    );
    const unsent = db
      .prepare("SELECT text, attributedBody, message_summary_info, date_edited FROM message WHERE text = ''")
      .all() as {
      attributedBody: Buffer;
      message_summary_info: Buffer;
      date_edited: number;
    }[];
    assert.equal(unsent.length, 1);
    assert.equal(attributedBodyText(unsent[0]?.attributedBody), "");
    assert.deepEqual(parseMessageSummaryInfo(unsent[0]?.message_summary_info)?.unsentParts, [0]);
    assert.ok((unsent[0]?.date_edited ?? 0) > 0);
  });

  test("has replies in a thread and unread incoming messages", () => {
    const replies = db
      .prepare(
        "SELECT text, attributedBody FROM message WHERE thread_originator_guid = (SELECT guid FROM message WHERE attributedBody IS NOT NULL AND thread_originator_guid IS NULL AND ROWID IN (SELECT message_id FROM chat_message_join WHERE chat_id = (SELECT ROWID FROM chat WHERE display_name = 'Weekend Crew 🏕️')) AND guid IN (SELECT thread_originator_guid FROM message) AND date > ? LIMIT 1)",
      )
      .all(appleNanos(NOW.getTime() - 6 * 86_400_000)) as { attributedBody: Buffer }[];
    assert.deepEqual(
      replies.map((r) => attributedBodyText(r.attributedBody)),
      ["Me!!", "In, if someone else drives", "I'll drive. Booking a cabin at Pine Hollow"],
    );
    const unread = one<number>(
      "SELECT count(*) FROM message WHERE is_from_me = 0 AND is_read = 0 AND item_type = 0",
    );
    assert.ok(unread >= 4, `unread ${unread}`);
    assert.equal(
      one("SELECT count(*) FROM message WHERE is_from_me = 0 AND is_read = 0 AND date_read != 0"),
      0,
    );
  });

  test("attachments point at real, valid files and their messages carry U+FFFC", () => {
    const rows = db
      .prepare(
        `SELECT a.filename, a.mime_type, a.total_bytes, m.text, m.attributedBody, m.cache_has_attachments
         FROM attachment a JOIN message_attachment_join j ON j.attachment_id = a.ROWID JOIN message m ON m.ROWID = j.message_id`,
      )
      .all() as {
      filename: string;
      mime_type: string;
      total_bytes: number;
      text: string | null;
      attributedBody: Buffer | null;
      cache_has_attachments: number;
    }[];
    const kinds = new Set(rows.map((r) => r.mime_type));
    for (const kind of ["image/png", "image/jpeg", "application/pdf", "text/plain", "text/vcard"])
      assert.ok(kinds.has(kind), kind);
    for (const row of rows) {
      // Stored as macOS stores it; resolved next to the chat.db, so the demo folder can move.
      assert.ok(row.filename.startsWith("~/Library/Messages/Attachments/"), row.filename);
      const path = resolveAttachmentPath(row.filename, paths.chatDb) ?? "";
      assert.ok(path.startsWith(paths.attachmentsDir), path);
      row.filename = path;
      assert.equal(statSync(row.filename).size, row.total_bytes);
      assert.ok((row.text ?? attributedBodyText(row.attributedBody) ?? "").includes("\ufffc"));
      assert.equal(row.cache_has_attachments, 1);
    }
    const fileOf = (mime: string) => readFileSync(rows.find((r) => r.mime_type === mime)?.filename ?? "");

    const png = fileOf("image/png");
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const chunks: { type: string; data: Buffer }[] = [];
    for (let at = 8; at < png.length; ) {
      const length = png.readUInt32BE(at);
      const type = png.toString("latin1", at + 4, at + 8);
      const data = png.subarray(at + 8, at + 8 + length);
      assert.equal(
        png.readUInt32BE(at + 8 + length),
        crc32(png.subarray(at + 4, at + 8 + length)),
        `${type} CRC`,
      );
      chunks.push({ type, data });
      at += 12 + length;
    }
    assert.deepEqual(
      chunks.map((c) => c.type),
      ["IHDR", "IDAT", "IEND"],
    );
    const width = chunks[0]?.data.readUInt32BE(0) ?? 0;
    const height = chunks[0]?.data.readUInt32BE(4) ?? 0;
    assert.equal(inflateSync(chunks[1]?.data ?? Buffer.alloc(0)).length, (1 + width * 3) * height);

    const jpeg = fileOf("image/jpeg");
    assert.deepEqual([...jpeg.subarray(0, 2), ...jpeg.subarray(-2)], [0xff, 0xd8, 0xff, 0xd9]);

    const pdf = fileOf("application/pdf").toString("latin1");
    assert.ok(pdf.startsWith("%PDF-1.4") && pdf.trimEnd().endsWith("%%EOF"));
    assert.ok(pdf.includes("(Confirmation code: PHC-58214) Tj"));
    const xrefAt = Number(/startxref\n(\d+)\n/.exec(pdf)?.[1]);
    assert.ok(pdf.startsWith("xref", xrefAt));
    const offsets = [...pdf.slice(xrefAt).matchAll(/^(\d{10}) 00000 n\r\n/gm)].map((m) => Number(m[1]));
    assert.equal(offsets.length, 6);
    offsets.forEach((offset, i) => {
      assert.ok(pdf.startsWith(`${i + 1} 0 obj`, offset), `object ${i + 1} offset`);
    });
    const stream = /<< \/Length (\d+) >>\nstream\n/.exec(pdf);
    assert.ok(stream);
    const streamStart = (stream.index ?? 0) + stream[0].length;
    assert.ok(pdf.startsWith("\nendstream", streamStart + Number(stream[1])));

    assert.match(fileOf("text/plain").toString("utf8"), /packing list/);
    assert.match(
      fileOf("text/vcard").toString("utf8"),
      /^BEGIN:VCARD\r\nVERSION:3\.0\r\n[\s\S]*FN:Priya Raman\r\n[\s\S]*END:VCARD\r\n$/,
    );
  });
});

describe("generateDemo determinism and scale", () => {
  test("same seed and now give identical messages; another seed differs", () => {
    const a = generateDemo({ dir: join(root, "det-a"), now: NOW, seed: 42, messages: 400 });
    const b = generateDemo({ dir: join(root, "det-b"), now: NOW, seed: 42, messages: 400 });
    const c = generateDemo({ dir: join(root, "det-c"), now: NOW, seed: 43, messages: 400 });
    const guidsAndDates = (p: string) => {
      const db = open(p);
      try {
        return db.prepare("SELECT guid, date, handle_id FROM message ORDER BY ROWID").all();
      } finally {
        db.close();
      }
    };
    assert.deepEqual(allTexts(a.chatDb), allTexts(b.chatDb));
    assert.deepEqual(guidsAndDates(a.chatDb), guidsAndDates(b.chatDb));
    assert.notDeepEqual(allTexts(a.chatDb), allTexts(c.chatDb));
    assert.equal(allTexts(a.chatDb).length, 400);
  });

  test("20k messages: more people and chats, longer history, shared attachment files", () => {
    const paths = generateDemo({ dir: join(root, "20k"), now: NOW, seed: 1, messages: 20_000 });
    const db = open(paths.chatDb);
    try {
      assert.equal(db.prepare("SELECT count(*) FROM message").pluck().get(), 20_000);
      assert.ok((db.prepare("SELECT count(*) FROM handle").pluck().get() as number) > 28);
      const oldest = db.prepare("SELECT min(date) FROM message").pluck().get() as number;
      assert.ok(oldest < appleNanos(NOW.getTime() - 365 * 86_400_000));
      assert.ok((db.prepare("SELECT count(*) FROM attachment").pluck().get() as number) > 100);
    } finally {
      db.close();
    }
  });

  test("rejects bad options with clear messages", () => {
    assert.throws(
      () => generateDemo({ dir: join(root, "bad1"), messages: 10 }),
      /messages must be a whole number of at least 200/,
    );
    assert.throws(() => generateDemo({ dir: join(root, "bad2"), seed: 1.5 }), /seed must be a whole number/);
  });
});

describe("ensureDemoData", () => {
  test("generates once, reuses while fresh, regenerates when stale", () => {
    const dir = join(root, "ensure", "demo");
    const first = ensureDemoData({ dir, now: NOW });
    assert.equal(first.generated, true);
    assert.equal(first.chatDb, join(dir, "Messages", "chat.db"));
    assert.ok(existsSync(first.chatDb));
    const again = ensureDemoData({ dir, now: new Date(NOW.getTime() + 3_600_000) });
    assert.equal(again.generated, false);
    const stale = ensureDemoData({ dir, now: new Date(NOW.getTime() + 7 * 3_600_000) });
    assert.equal(stale.generated, true);
    // No temporary siblings are left behind.
    assert.deepEqual(readdirSync(join(root, "ensure")), ["demo"]);
    const db = open(stale.chatDb);
    try {
      const newest = db.prepare("SELECT max(date) FROM message").pluck().get() as number;
      assert.ok(newest > appleNanos(NOW.getTime() + 6 * 3_600_000), "recent windows follow the new now");
    } finally {
      db.close();
    }
  });
});

describe("demo:generate CLI", () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", "src/demo/cli.ts", ...args], {
      encoding: "utf8",
      timeout: 60_000,
    });

  test("writes a demo and prints a summary", () => {
    const out = join(root, "cli-out");
    const result = cli(["--out", out, "--messages", "300", "--seed", "5"]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /Wrote 300 messages in [\d.]+ s/);
    assert.match(result.stderr, /chat\.db: .*MiB/);
    assert.equal(allTexts(join(out, "Messages", "chat.db")).length, 300);
  });

  test("bad arguments get a clear message and usage, exit code 2", () => {
    const missing = cli(["--messages", "100000"]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--out DIR is required/);
    assert.match(missing.stderr, /Usage:/);
    const notNumber = cli(["--out", join(root, "cli-bad"), "--messages", "lots"]);
    assert.equal(notNumber.status, 2);
    assert.match(notNumber.stderr, /--messages must be a whole number \(got "lots"\)/);
    assert.ok(!notNumber.stderr.includes("    at "), "no stack trace");
    assert.equal(cli(["--out", join(root, "cli-bad"), "--frobnicate"]).status, 2);
  });
});
