// The demo shows every case of "what Messages shows" (issue #12), as a model reads it: the generated demo
// (fixed seed and clock) served by the real server, read through the tools.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { generateDemo } from "../../src/demo/generate.js";
import { type Connected, call, connect } from "../helpers/mcp-scenario.js";

const NOW = new Date("2026-03-02T18:00:00Z");
const ALL = { start_date: "2015-01-01", limit: 1000 };
let dir: string;
let conn: Connected;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "demo-semantics-"));
  const demo = generateDemo({ dir: join(dir, "demo"), now: NOW });
  conn = await connect({ chatDb: demo.chatDb, contactsRoots: [demo.contactsRoot] });
});

after(async () => {
  await conn?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The fenced text of every message in `chat`, in Los Angeles time. */
async function chatText(chat: string): Promise<string> {
  const r = await call(conn.client, "get_recent_messages", {
    ...ALL,
    chat,
    timezone: "America/Los_Angeles",
  });
  assert.equal(r.result.isError, undefined, r.text);
  return r.text;
}

test("Weekend Crew: mention, replies by id, members coming and going, new photo, Genmoji", async () => {
  const text = await chatText("Weekend Crew");
  assert.match(text, /Jackson Lee: Ava can you bring the lantern\? \[@Ava Rossi\]\n/);
  const question = /\n#(\d+) \d\d:\d\d Jackson Lee: Who's in for camping the weekend of the 14th\?\n/.exec(
    text,
  );
  assert.ok(question, text);
  assert.match(
    text,
    new RegExp(
      `Emma Thompson: Me!! \\[reply to #${question[1]} \\(Who's in for camping the weekend…\\)\\]\\n`,
    ),
  );
  assert.match(text, /Ava Rossi: \(added Mia Hernández\)\n/);
  assert.match(text, /Mia Hernández: \(left the group\)\n/);
  assert.match(text, /Jackson Lee: \(changed the group photo\)\n/);
  assert.match(text, /Jackson Lee: \(added Ethan Brooks\)\n/);
  assert.match(text, /Me: \(removed Ethan Brooks\)\n/);
  assert.match(text, /Me: Camping weekend mood \[Genmoji: tent under the stars\] \[Genmoji \d+\]/);
});

test("Emma: read receipts, a sticker, and her love replaced by a laugh", async () => {
  const text = await chatText("Emma Thompson");
  assert.match(
    text,
    /\n#\d+ \d\d:\d\d Me: Yes! 9am at the north entrance \[‼️ Emma Thompson\] \[read \d\d:\d\d\]\n/,
  );
  const market = /\n#\d+ \d\d:\d\d Me: Made it to the market! .*\n/.exec(text)?.[0] ?? "";
  assert.match(market, /\[sticker: cactus giving a thumbs up\] \[sticker \d+\] \[😂 Emma Thompson\]/);
  assert.doesNotMatch(market, /❤️/);
});

test("voice transcription, translation, unsend, RCS", async () => {
  assert.match(
    await chatText("Robert Reyes"),
    /Robert Reyes: \(voice\) Hey kiddo, call me back when you get a chance\./,
  );
  assert.match(
    await chatText("Mia Hernández"),
    /Mia Hernández: ¿Nos vemos en el café a las 10\? \[translation: See you at the café at 10\?\]\n/,
  );
  const olivia = await chatText("Olivia Nguyen");
  assert.match(olivia, /\n#\d+ \d\d:\d\d Me: \(unsent\)\n/);
  assert.match(
    await chatText("Noah Patel"),
    /Noah Patel: Bring a chair if you have one \[unread\] \[RCS\]\n/,
  );
});

test("a page of several chats says to whom my one-to-one messages went", async () => {
  const r = await call(conn.client, "get_recent_messages", { ...ALL, contact: "Noah Patel" });
  assert.match(r.text, /\[chat:\d+\] Me → Noah Patel: .*\[RCS\]\n/);
});

test("a seconds-dated row and late-synced rows sit where their dates put them, in every zone", async () => {
  for (const timezone of ["America/Los_Angeles", "Asia/Kolkata", "Europe/London"]) {
    const mom = await call(conn.client, "get_recent_messages", {
      ...ALL,
      start_date: "2010-01-01",
      end_date: "2017-01-01",
      timezone,
    });
    assert.match(mom.text, /Linda Reyes: Did you get my voicemail\? Call me back \[SMS\]\n/, timezone);
    // The oldest row's own day, as a one-day window in that zone, holds it.
    const day =
      /\n(\d{4}-\d\d-\d\d) \w{3}\n#\d+ \d\d:\d\d \[chat:\d+\] Linda Reyes: Did you get my voicemail/.exec(
        mom.text,
      )?.[1];
    assert.ok(day, mom.text);
    const oneDay = await call(conn.client, "get_recent_messages", {
      start_date: day,
      end_date: day,
      timezone,
    });
    assert.match(oneDay.text, /Did you get my voicemail/, `${timezone} ${day}`);
  }
  const ava = await chatText("Ava Rossi");
  const ids = [...ava.matchAll(/\n#(\d+) \d\d:\d\d Ava Rossi: \(from my old phone\)/g)].map((m) =>
    Number(m[1]),
  );
  assert.equal(ids.length, 2);
  // Written last (highest ROWIDs), dated two days back: newest first by date puts older-ROWID rows above them.
  const firstLine = /\n#(\d+) /.exec(ava)?.[1];
  assert.ok(Number(firstLine) < Math.min(...ids), ava);
});
