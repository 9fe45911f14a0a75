import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  appleNanosToDate,
  appleSecondsToDate,
  dateToAppleNanos,
  dateToAppleNanosBigInt,
  dateToAppleSeconds,
  formatLocal,
} from "../../src/messages/apple-time.js";

describe("Apple epoch conversions", () => {
  test("known values from the real fixtures", () => {
    // message.date of a real chat.db row and an edit-history `d` from Edited.plist.
    assert.equal(appleSecondsToDate(690513474.2725511)?.toISOString(), "2022-11-19T01:17:54.273Z");
    assert.equal(appleNanosToDate(743907180000000000)?.toISOString(), "2024-07-29T00:53:00.000Z");
    assert.equal(appleNanosToDate(743907180874000123n)?.toISOString(), "2024-07-29T00:53:00.874Z");
    assert.equal(appleSecondsToDate(0.001)?.toISOString(), "2001-01-01T00:00:00.001Z");
  });
  test("pre-High-Sierra rows store seconds, detected by magnitude", () => {
    assert.equal(appleNanosToDate(530000000)?.toISOString(), "2017-10-18T06:13:20.000Z");
    assert.equal(appleNanosToDate(530000000n)?.toISOString(), "2017-10-18T06:13:20.000Z");
    assert.equal(appleNanosToDate(530000000000000000)?.toISOString(), "2017-10-18T06:13:20.000Z");
  });
  test("0, null, undefined and non-finite → null", () => {
    for (const v of [0, 0n, null, undefined, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.equal(appleNanosToDate(v as number), null);
      assert.equal(appleSecondsToDate(v as number), null);
    }
  });
  test("inverse conversions", () => {
    const d = new Date("2024-07-29T00:53:00.874Z");
    assert.equal(dateToAppleSeconds(d), 743907180.874);
    assert.equal(dateToAppleNanosBigInt(d), 743907180874000000n);
    assert.equal(appleNanosToDate(dateToAppleNanos(d))?.getTime(), d.getTime());
    assert.throws(() => dateToAppleNanos(new Date(Number.NaN)), /expected a valid Date/);
  });
  test("property: Date → nanos/seconds → Date is the identity (ms precision)", () => {
    const dates = fc.date({
      min: new Date("2001-01-02T00:00:00Z"),
      max: new Date("2100-01-01T00:00:00Z"),
      noInvalidDate: true,
    });
    fc.assert(
      fc.property(dates, (d) => {
        assert.equal(appleNanosToDate(dateToAppleNanos(d))?.getTime(), d.getTime());
        assert.equal(appleNanosToDate(dateToAppleNanosBigInt(d))?.getTime(), d.getTime());
        assert.equal(appleSecondsToDate(dateToAppleSeconds(d))?.getTime(), d.getTime());
      }),
      { numRuns: 2000 },
    );
  });
});

describe("formatLocal", () => {
  test("named zone with the offset in force", () => {
    assert.equal(formatLocal(new Date("2024-07-29T00:53:00Z"), "Europe/Berlin"), "2024-07-29T02:53:00+02:00");
    assert.equal(formatLocal(new Date("2024-01-29T00:53:00Z"), "Europe/Berlin"), "2024-01-29T01:53:00+01:00");
    assert.equal(formatLocal(new Date("2024-07-29T00:53:00.5Z"), "UTC"), "2024-07-29T00:53:00.500+00:00");
    assert.equal(
      formatLocal(new Date("2024-07-29T00:53:00Z"), "America/St_Johns"),
      "2024-07-28T22:23:00-02:30",
    );
  });
  test("DST edges in Europe/Berlin", () => {
    // Spring forward 2024-03-31 01:00Z: 01:59:59+01:00 is followed by 03:00:00+02:00.
    assert.equal(formatLocal(new Date("2024-03-31T00:59:59Z"), "Europe/Berlin"), "2024-03-31T01:59:59+01:00");
    assert.equal(formatLocal(new Date("2024-03-31T01:00:00Z"), "Europe/Berlin"), "2024-03-31T03:00:00+02:00");
    // Fall back 2024-10-27 01:00Z: 02:30 happens twice, told apart by the offset.
    assert.equal(formatLocal(new Date("2024-10-27T00:30:00Z"), "Europe/Berlin"), "2024-10-27T02:30:00+02:00");
    assert.equal(formatLocal(new Date("2024-10-27T01:30:00Z"), "Europe/Berlin"), "2024-10-27T02:30:00+01:00");
  });
  test("midnight is 00, not 24", () => {
    assert.equal(formatLocal(new Date("2024-07-28T22:00:00Z"), "Europe/Berlin"), "2024-07-29T00:00:00+02:00");
  });
  test("output parses back to the same instant in many zones", () => {
    const zones = ["Asia/Kolkata", "Pacific/Chatham", "America/Los_Angeles", "Australia/Lord_Howe", "UTC"];
    fc.assert(
      fc.property(
        fc.date({ min: new Date("1990-01-01Z"), max: new Date("2090-01-01Z"), noInvalidDate: true }),
        fc.constantFrom(...zones),
        (d, z) => {
          assert.equal(new Date(formatLocal(d, z)).getTime(), d.getTime());
        },
      ),
      { numRuns: 500 },
    );
  });
  test("default zone is the process's", () => {
    const d = new Date("2024-07-29T00:53:00Z");
    assert.equal(formatLocal(d), formatLocal(d, Intl.DateTimeFormat().resolvedOptions().timeZone));
  });
  test("bad input gets a clear error", () => {
    assert.throws(
      () => formatLocal(new Date("2024-07-29T00:53:00Z"), "Mars/Olympus"),
      /unknown time zone "Mars\/Olympus"/,
    );
    assert.throws(() => formatLocal(new Date(Number.NaN)), /expected a valid Date/);
  });
});
