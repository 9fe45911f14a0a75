// What a person sees in Messages, as the tools render it: on a hand-built chat.db (Apple's schema, real
// attributedBody and message_summary_info blobs from the fixtures) and on the real imessage-exporter test
// database, under several time zones (one with a DST change inside the tested window). The server's own
// zone is switched through process.env.TZ, the way a Mac in that zone runs it; the `timezone` argument
// overrides it per call.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { writeAddressBook } from "../../src/demo/addressbook-writer.js";
import { ChatDbWriter, type MessageInput } from "../../src/demo/chatdb-writer.js";
import { encodeAttributedBody, encodeMessageSummaryInfo } from "../../src/messages/codec.js";
import { MessageSender } from "../../src/send/index.js";
import { installFakeOsascript } from "../helpers/fake-osascript.js";
import { type Connected, call, connect, copyFixtureDb } from "../helpers/mcp-scenario.js";
import { runChatDbWriter } from "../helpers/run-chatdb-writer.js";
import { SUMMARY_INFO_DIR, TYPEDSTREAM_DIR } from "../helpers/typedstream-fixtures.js";
import { waitUntil } from "../helpers/wait.js";

/** Three zones: one with DST starting on the tested day (2025-03-09), one half-hour offset, one at UTC+0. */
const ZONES = ["America/Los_Angeles", "Asia/Kolkata", "Europe/London"] as const;

/** Runs `body` with the server's (the process's) zone set to `zone`. */
async function inZone<T>(zone: string, body: () => Promise<T>): Promise<T> {
  const saved = process.env.TZ;
  process.env.TZ = zone;
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
}

/** The message lines (`#id …`) of a text result. */
function lines(text: string): string[] {
  return text.split("\n").filter((line) => /^#\d+ /.test(line));
}

const PHONES = { noah: "+15550100001", liam: "+15550100003", dad: "+15558675309" };
const SUMMER = new Date("2025-06-01T17:00:00Z").getTime();
const at = (minutes: number) => new Date(SUMMER + minutes * 60_000);

let dir: string;
let conn: Connected;
const ids: Record<string, number> = {};
const chats = { noah: 0, crew: 0 };
const handles = { noah: 0 };
let contactsRoot: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "real-data-semantics-"));
  contactsRoot = join(dir, "AddressBook");
  writeAddressBook(join(contactsRoot, "AddressBook-v22.abcddb"), [
    { firstName: "Noah", lastName: "Patel", phones: [{ value: PHONES.noah, label: "mobile" }] },
    { firstName: "Ava", lastName: "Rossi", emails: [{ value: "ava@example.com", label: "home" }] },
    { firstName: "Liam", lastName: "Carter", phones: [{ value: PHONES.liam, label: "mobile" }] },
    { firstName: "Robert", lastName: "Reyes", phones: [{ value: PHONES.dad, label: "mobile" }] },
  ]);
  const w = new ChatDbWriter(join(dir, "Messages", "chat.db"));
  const h = {
    noah: w.addHandle({ id: PHONES.noah, service: "RCS" }),
    ava: w.addHandle({ id: "ava@example.com", service: "iMessage" }),
    liam: w.addHandle({ id: PHONES.liam, service: "iMessage" }),
    dad: w.addHandle({ id: PHONES.dad, service: "iMessage" }),
  };
  handles.noah = h.noah;
  chats.noah = w.addChat({ identifier: PHONES.noah, service: "RCS", isGroup: false, participants: [h.noah] });
  chats.crew = w.addChat({
    identifier: "chat900",
    service: "iMessage",
    isGroup: true,
    displayName: "Crew",
    participants: [h.ava, h.liam, h.dad],
  });
  const say = (key: string, input: Partial<MessageInput> & { date: Date }) => {
    const ref = w.addMessage({
      chatRowid: chats.crew,
      handleRowid: h.ava,
      isFromMe: false,
      isRead: true,
      service: "iMessage",
      ...input,
    });
    ids[key] = ref.rowid;
    return ref;
  };
  const toNoah = { chatRowid: chats.noah, handleRowid: h.noah, service: "RCS" } as const;

  // The date window rows, around Los Angeles' DST change (2025-03-09 02:00 PST → 03:00 PDT). Written out of
  // date order (as iCloud sync leaves them), one dated in seconds (a Mac before High Sierra).
  say("w4", { ...toNoah, text: "window four", date: new Date("2025-03-10T07:30:00Z") });
  say("w3", { ...toNoah, text: "window three", date: new Date("2025-03-10T06:30:00Z") });
  say("w2", {
    ...toNoah,
    text: "window two",
    isFromMe: true,
    date: new Date("2025-03-09T09:00:00Z"),
    datesInSeconds: true,
  });
  say("w1", { ...toNoah, text: "window one", date: new Date("2025-03-09T07:30:00Z") });
  say("w0", { ...toNoah, text: "window zero", date: new Date("2025-03-08T20:00:00Z") });

  // A voice message (the real Transcription blob: its U+FFFC names the audio file).
  const voice = say("voice", {
    handleRowid: h.dad,
    attributedBody: readFileSync(join(TYPEDSTREAM_DIR, "Transcription")),
    isAudioMessage: true,
    date: at(0),
  });
  w.addAttachment({
    guid: "4C339597-EBBB-4978-9B87-521C0471A848",
    messageRowid: voice.rowid,
    path: null,
    name: "Audio Message.caf",
    mimeType: "audio/x-caf",
    uti: "com.apple.coreaudio-format",
    totalBytes: 20_000,
  });
  // Mentions: the real Mention blob (it names +15558675309) and one of ours.
  say("mention", {
    handleRowid: h.liam,
    attributedBody: readFileSync(join(TYPEDSTREAM_DIR, "Mention")),
    date: at(1),
  });
  say("mention2", {
    attributedBody: encodeAttributedBody("Ask Liam about it", {
      mentions: [{ start: 4, length: 4, handleId: PHONES.liam }],
    }),
    date: at(2),
  });
  // A thread: the question and my answer to it.
  const question = say("question", { text: "Who's in for camping the weekend of the 14th?", date: at(3) });
  say("reply", {
    text: "Me! I'll drive",
    isFromMe: true,
    handleRowid: 0,
    threadOriginatorGuid: question.guid,
    date: at(4),
  });
  // Group events: added, removed, left, new photo.
  say("added", { text: null, itemType: 1, groupActionType: 0, otherHandle: h.liam, date: at(5) });
  say("removed", {
    text: null,
    itemType: 1,
    groupActionType: 1,
    otherHandle: h.dad,
    isFromMe: true,
    handleRowid: 0,
    date: at(6),
  });
  say("left", { text: null, itemType: 3, groupActionType: 0, handleRowid: h.liam, date: at(7) });
  say("photo", { text: null, itemType: 3, groupActionType: 1, date: at(8) });

  // With Noah (RCS): my message delivered then read; his tapbacks (love, replaced by laugh).
  const receipted = say("receipted", {
    ...toNoah,
    text: "See you at 8",
    isFromMe: true,
    date: at(10),
    dateDelivered: at(10.05),
    dateRead: at(14),
  });
  for (const [minute, type] of [
    [11, 2000],
    [12, 2003],
  ] as const) {
    w.addMessage({
      ...toNoah,
      isFromMe: false,
      date: at(minute),
      text: "reaction",
      associatedMessageGuid: `p:0/${receipted.guid}`,
      associatedMessageType: type,
    });
  }
  // A translation (macOS 26), a plain unsend (real summary blob) and a real edit.
  say("translated", {
    ...toNoah,
    text: "¿Vienes mañana?",
    date: at(15),
    messageSummaryInfo: encodeMessageSummaryInfo({
      editedParts: [],
      unsentParts: [],
      history: {},
      translation: { text: "Are you coming tomorrow?", language: "en_US", sourceLanguage: "es_ES" },
    }),
  });
  say("unsent", {
    ...toNoah,
    text: "",
    isFromMe: true,
    date: at(16),
    dateEdited: at(17),
    messageSummaryInfo: readFileSync(join(SUMMARY_INFO_DIR, "Deleted.plist")),
  });
  say("edited", {
    ...toNoah,
    text: "Running 15 min late",
    isFromMe: true,
    date: at(18),
    dateEdited: at(19),
    messageSummaryInfo: readFileSync(join(SUMMARY_INFO_DIR, "Edited.plist")),
  });
  // An inline sticker and a Genmoji inside text.
  const stickers = say("stickers", {
    ...toNoah,
    attributedBody: encodeAttributedBody("Look \ufffc and \ufffc!", {
      attachmentGuids: ["at_0_S1", "at_2_G1"],
    }),
    date: at(20),
  });
  for (const [guid, isSticker, imageDescription] of [
    ["at_0_S1", true, "pink poodle"],
    ["at_2_G1", false, "cat in sunglasses"],
  ] as const) {
    w.addAttachment({
      guid,
      messageRowid: stickers.rowid,
      path: null,
      name: `${guid}.heic`,
      mimeType: "image/heic",
      uti: "public.heic",
      totalBytes: 9,
      isSticker,
      imageDescription,
    });
  }
  w.close();
  conn = await connect({ chatDb: join(dir, "Messages", "chat.db"), contactsRoots: [contactsRoot] });
});

after(async () => {
  await conn?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("one date vocabulary: a date alone is the local day, end_date inclusive", () => {
  // start_date = end_date = 2025-03-09 in each zone, as UTC instants: LA 08:00Z–07:00Z next day (23 hours,
  // DST starts), Kolkata 18:30Z the day before to 18:30Z, London 00:00Z–24:00Z.
  const expected: Record<(typeof ZONES)[number], string[]> = {
    "America/Los_Angeles": ["w3", "w2"],
    "Asia/Kolkata": ["w2", "w1", "w0"],
    "Europe/London": ["w2", "w1"],
  };
  for (const zone of ZONES) {
    test(`TZ=${zone}: get_recent_messages, search_messages and the timezone argument agree`, async () => {
      const want = expected[zone].map((key) => ids[key]);
      const oneDay = { start_date: "2025-03-09", end_date: "2025-03-09" };
      await inZone(zone, async () => {
        const recent = await call(conn.client, "get_recent_messages", {
          ...oneDay,
          chat: `chat:${chats.noah}`,
        });
        assert.equal(recent.result.isError, undefined, recent.text);
        assert.deepEqual(
          recent.data.messages.map((m) => m.id),
          want,
          recent.text,
        );
        assert.match(recent.text, new RegExp(`\\nTimes in ${zone}, UTC`));
        // Structured dates carry the zone's offset.
        assert.ok(
          recent.data.messages.every((m) => /[+-]\d\d:\d\d$/.test(m.date)),
          recent.data.messages[0]?.date,
        );
        const search = await call(conn.client, "search_messages", { query: "window", ...oneDay });
        assert.deepEqual(
          search.data.messages.map((m) => m.id),
          want,
          search.text,
        );
      });
      // The same window asked for from another zone, with the timezone argument.
      await inZone("UTC", async () => {
        const recent = await call(conn.client, "get_recent_messages", {
          ...oneDay,
          timezone: zone,
          chat: `chat:${chats.noah}`,
        });
        assert.deepEqual(
          recent.data.messages.map((m) => m.id),
          want,
        );
        assert.match(recent.text, new RegExp(`\\nTimes in ${zone}, UTC`));
      });
    });
  }

  test("date-times with offsets are exact; anything else is refused in plain words", async () => {
    const exact = await call(conn.client, "get_recent_messages", {
      start_date: "2025-03-09T09:00:00+00:00",
      end_date: "2025-03-09T01:00:00-08:00",
      chat: `chat:${chats.noah}`,
    });
    assert.deepEqual(
      exact.data.messages.map((m) => m.id),
      [ids.w2],
    );
    for (const [args, message] of [
      [{ start_date: "2025-02-30" }, /start_date "2025-02-30" is not a real calendar date/],
      [{ start_date: "1" }, /start_date "1" is not a date/],
      [{ start_date: "2025-03-10", end_date: "2025-03-09" }, /end_date "2025-03-09" is before start_date/],
      [{ timezone: "Mars/Olympus" }, /timezone "Mars\/Olympus" is not a time zone/],
    ] as const) {
      for (const tool of ["get_recent_messages", "search_messages", "search_attachments"]) {
        const r = await call(conn.client, tool, {
          ...(tool === "search_messages" ? { query: "x" } : {}),
          ...args,
        });
        assert.equal(r.result.isError, true, `${tool} ${JSON.stringify(args)}`);
        assert.match(r.text, message);
        assert.doesNotMatch(r.text, /\n\s+at /, "no stack trace");
      }
    }
  });

  test("search_messages' old since/until are refused with the names to use", async () => {
    const r = await call(conn.client, "search_messages", { query: "window", since: "2025-03-09" });
    assert.equal(r.result.isError, true);
    assert.match(r.text, /instead of since, use start_date/);
    const u = await call(conn.client, "search_messages", { query: "window", until: "2025-03-09" });
    assert.match(u.text, /instead of until, use end_date/);
  });
});

describe("what Messages shows, rendered", () => {
  const everything = { start_date: "2025-06-01", end_date: "2025-06-02", timezone: "America/Los_Angeles" };
  let shown: string[] = [];
  const line = (key: string) => {
    const found = shown.find((l) => l.startsWith(`#${ids[key]} `));
    assert.ok(found, `${key} (#${ids[key]}) on the page:\n${shown.join("\n")}`);
    return found;
  };

  before(async () => {
    const r = await call(conn.client, "get_recent_messages", { ...everything, limit: 100 });
    assert.equal(r.result.isError, undefined, r.text);
    shown = lines(r.text);
  });

  test("voice transcription, mentions, translation", () => {
    assert.match(
      line("voice"),
      /Robert Reyes: \(voice\) This is a test \[attachment \d+: Audio Message\.caf, 20 KB\]$/,
    );
    assert.match(line("mention"), /\[@Robert Reyes\]/);
    assert.match(line("mention2"), /Ava Rossi: Ask Liam about it \[@Liam Carter\]$/);
    assert.match(
      line("translated"),
      /Noah Patel: ¿Vienes mañana\? \[translation: Are you coming tomorrow\?\] \[RCS\]$/,
    );
  });

  test("a reply says to which message; a sent one-to-one message says to whom; receipts and one tapback per person", () => {
    assert.match(
      line("reply"),
      new RegExp(
        `Me: Me! I'll drive \\[reply to #${ids.question} \\(Who's in for camping the weekend…\\)\\]`,
      ),
    );
    // 17:10 UTC is 10:10 in Los Angeles (PDT); read at 10:14.
    assert.equal(
      line("receipted"),
      `#${ids.receipted} 10:10 [chat:${chats.noah}] Me → Noah Patel: See you at 8 [😂 Noah Patel] [read 10:14] [RCS]`,
    );
  });

  test("group events say who did what to whom", () => {
    assert.match(line("added"), /Ava Rossi: \(added Liam Carter\)$/);
    assert.match(line("removed"), /Me: \(removed Robert Reyes\)$/);
    assert.match(line("left"), /Liam Carter: \(left the group\)$/);
    assert.match(line("photo"), /Ava Rossi: \(changed the group photo\)$/);
  });

  test("unsend is not an edit; stickers and Genmoji are marked where they sit", () => {
    assert.match(line("unsent"), /Me → Noah Patel: \(unsent\)( \[RCS\])?$/);
    assert.doesNotMatch(line("unsent"), /edited/);
    assert.match(line("edited"), /Running 15 min late \[edited\]/);
    assert.match(
      line("stickers"),
      /Noah Patel: Look \[sticker: pink poodle\] and \[Genmoji: cat in sunglasses\] ! \[sticker \d+\] \[Genmoji \d+\] \[RCS\]$/,
    );
  });

  test("get_message_context: the message and N before/after in its chat, rendered the same way", async () => {
    const r = await call(conn.client, "get_message_context", {
      message_id: ids.reply,
      before: 2,
      after: 1,
      timezone: "Asia/Kolkata",
    });
    assert.equal(r.result.isError, undefined, r.text);
    assert.deepEqual(
      lines(r.text).map((l) => Number(l.slice(1, l.indexOf(" ")))),
      [ids.mention2, ids.question, ids.reply, ids.added],
    );
    assert.match(r.text, /\nTimes in Asia\/Kolkata, UTC\+05:30\.\n/);
    // 17:04 UTC is 22:34 in Kolkata.
    assert.match(
      r.text,
      new RegExp(`\\n#${ids.reply} 22:34 Me: Me! I'll drive \\[reply to #${ids.question} `),
    );
    assert.match(
      r.text,
      /<untrusted-message-content>[\s\S]*Who's in for camping[\s\S]*<\/untrusted-message-content>/,
    );
    const missing = await call(conn.client, "get_message_context", { message_id: 999_999 });
    assert.equal(missing.result.isError, true);
    assert.match(missing.text, /no message #999999/);
  });
});

describe("the real imessage-exporter database", () => {
  let fixture: ReturnType<typeof copyFixtureDb>;
  let real: Connected;
  before(async () => {
    fixture = copyFixtureDb();
    real = await connect({ chatDb: fixture.path });
  });
  after(async () => {
    await real?.close();
    fixture?.cleanup();
  });

  // 548216 was sent 2025-09-13 21:06:10 UTC and read 21:07:07 UTC.
  const expected: Record<(typeof ZONES)[number], { day: string; sent: string; read: string }> = {
    "America/Los_Angeles": { day: "2025-09-13 Sat", sent: "14:06", read: "14:07" },
    "Asia/Kolkata": { day: "2025-09-14 Sun", sent: "02:36", read: "02:37" },
    "Europe/London": { day: "2025-09-13 Sat", sent: "22:06", read: "22:07" },
  };
  for (const zone of ZONES) {
    test(`TZ=${zone}: translation, read receipt and sticker as Messages shows them`, async () => {
      const { day, sent, read } = expected[zone];
      await inZone(zone, async () => {
        const r = await call(real.client, "get_recent_messages", { start_date: "2020-01-01" });
        assert.equal(r.result.isError, undefined, r.text);
        assert.ok(r.text.includes(`\n${day}\n#548216 ${sent} Me: Oh it translated what I sent! `), r.text);
        assert.ok(
          r.text.includes(`[translation: Oh, il a traduit ce que j'ai envoyé !] [read ${read}]`),
          r.text,
        );
        assert.match(
          r.text,
          /\n#452567 \d\d:\d\d Unknown sender: I’m going to try to eat as quick as possible and then come over \[sticker \d+\]\n/,
        );
        assert.match(r.text, new RegExp(`\\nTimes in ${zone}, UTC`));
      });
    });
  }
});

describe("RCS is said as RCS", () => {
  test("check_imessage_availability and a confirmed send_message to an RCS number", {
    timeout: 180_000,
  }, async () => {
    const availability = await call(conn.client, "check_imessage_availability", { recipient: "Noah Patel" });
    assert.match(
      availability.text,
      /has no iMessage history but uses RCS; send_message will send through the SMS account, as RCS\./,
    );
    assert.match(
      availability.text,
      /\+15550100001: uses RCS \(no iMessage history\) \(RCS: \d+ messages, last /,
    );
    assert.equal(availability.data.rcs, true);

    // Messages sends RCS through its SMS account and stores the sent row as RCS: the result says RCS.
    const fake = await installFakeOsascript({ stdout: "sent" });
    const chatDb = join(dir, "Messages", "chat.db");
    const sending = await connect({
      chatDb,
      contactsRoots: [contactsRoot],
      sender: new MessageSender({ env: fake.env, timeoutMs: 60_000, deliveryWindowMs: 120_000 }),
    });
    try {
      const text = "On my way, 10 min";
      const result = call(sending.client, "send_message", { recipient: "Noah Patel", text, format: "json" });
      await waitUntil(async () => (await fake.calls()).length > 0, "osascript to be called", 60_000);
      assert.match((await fake.calls())[0]?.program ?? "", /service type = SMS/);
      await runChatDbWriter([chatDb, "sent", text, String(chats.noah), String(handles.noah), "RCS"]);
      const sent = await result;
      assert.equal(sent.result.isError, undefined, sent.text);
      assert.equal(sent.data.service, "RCS");
      assert.equal(sent.data.delivery, "confirmed");
      assert.match(String(sent.data.note), /uses RCS/);
    } finally {
      await sending.close();
      await fake.cleanup();
    }
  });
});
