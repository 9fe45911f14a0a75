import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import {
  DateInputError,
  instantOf,
  isoInZone,
  parseDateArgument,
  parseDateWindow,
  resolveTimeZone,
  shortTimeInZone,
  timeZoneNote,
  utcOffsetMinutes,
} from "../../src/util/dates.js";

const run = promisify(execFile);
const CHILD = resolve(import.meta.dirname, "..", "helpers", "dates-child.ts");

const INPUTS: [string, "start" | "end"][] = [
  ["2025-03-09", "start"],
  ["2025-03-09", "end"],
  ["2025-07-01T09:30", "start"],
  ["2025-07-01T09:30:00Z", "start"],
  ["2025-07-01T09:30:00+02:00", "end"],
  ["2025-02-30", "start"],
  ["1", "start"],
];

/** What each input means in each zone (as UTC instants), computed by hand from the zones' rules. */
const EXPECTED: Record<string, { results: string[]; oneDay: string[]; note: string }> = {
  // DST starts 2025-03-09 at 02:00 (−08:00 → −07:00): that day has 23 hours.
  "America/Los_Angeles": {
    results: [
      "2025-03-09T08:00:00.000Z",
      "2025-03-10T07:00:00.000Z",
      "2025-07-01T16:30:00.000Z",
      "2025-07-01T09:30:00.000Z",
      "2025-07-01T07:30:00.001Z",
    ],
    oneDay: ["2025-03-09T08:00:00.000Z", "2025-03-10T07:00:00.000Z"],
    note: "Times in America/Los_Angeles, UTC\u221208:00.",
  },
  // No DST; half-hour offset.
  "Asia/Kolkata": {
    results: [
      "2025-03-08T18:30:00.000Z",
      "2025-03-09T18:30:00.000Z",
      "2025-07-01T04:00:00.000Z",
      "2025-07-01T09:30:00.000Z",
      "2025-07-01T07:30:00.001Z",
    ],
    oneDay: ["2025-03-08T18:30:00.000Z", "2025-03-09T18:30:00.000Z"],
    note: "Times in Asia/Kolkata, UTC+05:30.",
  },
  // DST (BST) in July, not in March.
  "Europe/London": {
    results: [
      "2025-03-09T00:00:00.000Z",
      "2025-03-10T00:00:00.000Z",
      "2025-07-01T08:30:00.000Z",
      "2025-07-01T09:30:00.000Z",
      "2025-07-01T07:30:00.001Z",
    ],
    oneDay: ["2025-03-09T00:00:00.000Z", "2025-03-10T00:00:00.000Z"],
    note: "Times in Europe/London, UTC+00:00.",
  },
};

describe("date arguments in the Mac's own time zone (child processes under TZ=…)", () => {
  for (const [zone, expected] of Object.entries(EXPECTED)) {
    test(`TZ=${zone}`, async () => {
      const { stdout } = await run(process.execPath, ["--import", "tsx", CHILD, JSON.stringify(INPUTS)], {
        env: { ...process.env, TZ: zone },
      });
      const got = JSON.parse(stdout) as { zone: string; results: string[]; oneDay: string[]; note: string };
      assert.equal(got.zone, zone);
      assert.deepEqual(got.results.slice(0, 5), expected.results);
      assert.match(got.results[5] ?? "", /^error: start_date "2025-02-30" is not a real calendar date/);
      assert.match(got.results[6] ?? "", /^error: start_date "1" is not a date/);
      assert.deepEqual(got.oneDay, expected.oneDay);
      assert.equal(got.note, expected.note);
    });
  }
});

describe("parseDateArgument", () => {
  test("refuses what new Date() would quietly reinterpret", () => {
    for (const bad of [
      "1",
      "2025",
      "2025-3-1",
      "03/01/2025",
      "2025-02-29",
      "2025-13-01",
      "2025-00-10",
      "yesterday",
    ]) {
      assert.throws(() => parseDateArgument(bad, "start", "UTC"), DateInputError, bad);
    }
    for (const bad of [
      "2025-03-01T24:00",
      "2025-03-01T12:60",
      "2025-03-01T12:00:61",
      "2025-03-01T12:00+15:00",
    ]) {
      assert.throws(() => parseDateArgument(bad, "start", "UTC"), DateInputError, bad);
    }
    assert.equal(parseDateArgument("2024-02-29", "start", "UTC").toISOString(), "2024-02-29T00:00:00.000Z");
  });
  test("offsets in every accepted spelling", () => {
    for (const v of [
      "2025-03-01T09:00:00-08:00",
      "2025-03-01T09:00:00-0800",
      "2025-03-01 09:00-08",
      "2025-03-01T17:00:00z",
    ]) {
      assert.equal(parseDateArgument(v, "start", "Asia/Tokyo").toISOString(), "2025-03-01T17:00:00.000Z", v);
    }
  });
  test("a DST gap moves forward; an overlap takes the first occurrence", () => {
    // 02:30 does not exist in Los Angeles on 2025-03-09.
    assert.equal(
      parseDateArgument("2025-03-09T02:30", "start", "America/Los_Angeles").toISOString(),
      "2025-03-09T10:30:00.000Z",
    );
    // 01:30 happens twice on 2025-11-02: the first is PDT (−07:00).
    assert.equal(
      parseDateArgument("2025-11-02T01:30", "start", "America/Los_Angeles").toISOString(),
      "2025-11-02T08:30:00.000Z",
    );
    // Santiago skips midnight (00:00 → 01:00) on 2024-09-08: the day starts at 01:00 local.
    assert.equal(
      parseDateArgument("2024-09-08", "start", "America/Santiago").toISOString(),
      "2024-09-08T04:00:00.000Z",
    );
  });
  test("windows: an end before the start is refused; start = end is one whole day", () => {
    assert.throws(
      () => parseDateWindow({ start_date: "2025-03-02", end_date: "2025-03-01" }, "UTC"),
      /end_date "2025-03-01" is before start_date "2025-03-02"/,
    );
    const day = parseDateWindow({ start_date: "2025-03-01", end_date: "2025-03-01" }, "Europe/Paris");
    assert.equal(day.start?.toISOString(), "2025-02-28T23:00:00.000Z");
    assert.equal(day.end?.toISOString(), "2025-03-01T23:00:00.000Z");
    assert.equal(day.description, "from 2025-03-01 to 2025-03-01");
    const open = parseDateWindow({ start_date: "", end_date: undefined }, "UTC");
    assert.equal(open.start, undefined);
    assert.equal(open.description, "");
  });
});

describe("time zones and how times are written", () => {
  test("timezone argument: IANA names accepted, others refused clearly", () => {
    assert.equal(resolveTimeZone("Europe/Paris"), "Europe/Paris");
    assert.equal(resolveTimeZone("utc"), "UTC");
    assert.throws(() => resolveTimeZone("Mars/Olympus"), /timezone "Mars\/Olympus" is not a time zone/);
  });
  test("offsets, ISO with offset, short local times, the zone note", () => {
    const winter = new Date("2025-01-15T20:05:07Z");
    const summer = new Date("2025-07-15T20:05:07.250Z");
    assert.equal(utcOffsetMinutes(winter.getTime(), "America/Los_Angeles"), -480);
    assert.equal(utcOffsetMinutes(summer.getTime(), "America/Los_Angeles"), -420);
    assert.equal(isoInZone(winter, "America/Los_Angeles"), "2025-01-15T12:05:07-08:00");
    assert.equal(isoInZone(summer, "Asia/Kolkata"), "2025-07-16T01:35:07.250+05:30");
    assert.equal(isoInZone(winter, "UTC"), "2025-01-15T20:05:07+00:00");
    assert.equal(shortTimeInZone(winter, "Asia/Kolkata"), "2025-01-16 01:35");
    assert.equal(
      timeZoneNote("America/Los_Angeles", [summer, winter]),
      "Times in America/Los_Angeles, UTC\u221208:00/\u221207:00.",
    );
  });
  test("times match Intl's own wall clock across offset changes (offsets are remembered per day and per hour)", () => {
    const cases: [zone: string, near: string][] = [
      ["America/Los_Angeles", "2025-03-09T10:00:00Z"], // DST starts at 02:00 local
      ["America/Los_Angeles", "2025-11-02T09:00:00Z"], // and ends: 01:00–02:00 happens twice
      ["Australia/Lord_Howe", "2025-04-05T15:00:00Z"], // a half-hour change, at :00 local and :30 UTC
      ["Asia/Kathmandu", "1985-12-31T18:30:00Z"], // +05:30 → +05:45
      ["Africa/Monrovia", "1972-01-07T00:44:30Z"], // −00:44:30 (not whole minutes) → UTC
      ["Pacific/Apia", "2011-12-30T10:00:00Z"], // −10:00 → +14:00: 30 December 2011 never happened there
      ["Europe/Paris", "2025-10-26T01:00:00Z"], // ends at 03:00 local, inside a UTC day
    ];
    for (const [zone, near] of cases) {
      const intl = new Intl.DateTimeFormat("en-US", {
        timeZone: zone,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
      });
      // Odd steps over a day and a half each side, so instants land at every minute and second of the hours,
      // in the days around the change and in the day that holds it.
      for (
        let ms = Date.parse(near) - 36 * 3_600_000;
        ms < Date.parse(near) + 36 * 3_600_000;
        ms += 433_001
      ) {
        const date = new Date(ms);
        const p = Object.fromEntries(intl.formatToParts(date).map((part) => [part.type, part.value]));
        const wall = `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
        assert.equal(isoInZone(date, zone).slice(0, 19), wall, `${zone} at ${date.toISOString()}`);
        assert.equal(shortTimeInZone(date, zone), wall.slice(0, 16).replace("T", " "));
      }
    }
  });
});

describe("instantOf", () => {
  test("reads isoInZone's texts back as Date.parse does (isoInZone hands it their instants)", () => {
    const cases: [zone: string, from: string][] = [
      ["America/Los_Angeles", "2025-03-08T00:00:00Z"],
      ["Asia/Kathmandu", "1985-12-30T00:00:00Z"],
      ["Europe/Amsterdam", "1900-06-01T00:00:00Z"], // +00:19:32: the text's offset is rounded to +00:20
      ["Africa/Monrovia", "1972-01-05T00:00:00Z"], // −00:44:30, then UTC
      ["UTC", "2001-01-01T00:00:00Z"],
    ];
    for (const [zone, from] of cases) {
      for (let ms = Date.parse(from); ms < Date.parse(from) + 3 * 86_400_000; ms += 3_600_007) {
        const text = isoInZone(new Date(ms), zone);
        assert.equal(isoInZone(new Date(ms), zone), text, "the same text again");
        assert.equal(Object.is(instantOf(text), Date.parse(text)), true, `${zone}: ${text}`);
      }
    }
    // One instant in two zones in turn: each zone's own text, however the memo of the last zone is kept.
    const date = new Date("2025-07-01T12:00:00.250Z");
    for (let round = 0; round < 2; round++) {
      assert.equal(isoInZone(date, "Asia/Tokyo"), "2025-07-01T21:00:00.250+09:00");
      assert.equal(isoInZone(date, "America/New_York"), "2025-07-01T08:00:00.250-04:00");
    }
  });

  test("reads a date text as Date.parse does, the first time and every time after, also once its memory is full", () => {
    const texts = [
      "2025-03-01T14:05:00-08:00",
      "2025-03-01T14:05:00.123+05:30",
      "2001-01-01T00:00:00Z",
      "1969-12-31T23:59:59.999-00:00",
      "not a date",
      "",
    ];
    for (let round = 0; round < 3; round++) {
      for (const text of texts) assert.equal(Object.is(instantOf(text), Date.parse(text)), true, text);
    }
    // More distinct texts than it keeps: every answer stays right while it forgets.
    const base = Date.UTC(2024, 0, 1);
    for (let i = 0; i < 10_000; i++) {
      const text = new Date(base + i * 61_000).toISOString();
      assert.equal(instantOf(text), base + i * 61_000);
    }
    for (const text of texts) assert.equal(Object.is(instantOf(text), Date.parse(text)), true, text);
  });
});
