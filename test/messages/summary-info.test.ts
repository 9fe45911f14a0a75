import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseBuffer } from "bplist-parser";
import fc from "fast-check";
import { encodeMessageSummaryInfo, parseMessageSummaryInfo } from "../../src/messages/summary-info.js";
import { summaryInfoFixtures } from "../helpers/typedstream-fixtures.js";

const isoSeconds = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;

describe("parseMessageSummaryInfo on the 9 real plists", () => {
  const fixtures = summaryInfoFixtures();
  test("all 9 are listed", () => assert.equal(fixtures.length, 9));
  for (const f of fixtures) {
    test(f.name, () => {
      const info = parseMessageSummaryInfo(f.blob);
      assert.ok(info, "has edit/unsend info");
      assert.deepEqual(info.editedParts, f.editedParts);
      assert.deepEqual(info.unsentParts, f.unsentParts);
      const flat = Object.entries(info.history).flatMap(([part, records]) =>
        records.map((r) => ({ part: Number(part), date: isoSeconds(r.date), text: r.text })),
      );
      assert.deepEqual(flat, f.history);
    });
  }
  test("dates keep sub-second precision", () => {
    const edited = fixtures.find((f) => f.name === "Edited.plist");
    const info = parseMessageSummaryInfo(edited?.blob);
    assert.equal(info?.history[0]?.[0]?.date.toISOString(), "2022-11-19T01:17:54.273Z");
  });
});

describe("absent, empty and garbage input", () => {
  test("absent or without edit info → null", () => {
    assert.equal(parseMessageSummaryInfo(null), null);
    assert.equal(parseMessageSummaryInfo(undefined), null);
    assert.equal(parseMessageSummaryInfo(new Uint8Array(0)), null);
    assert.equal(
      parseMessageSummaryInfo(encodeMessageSummaryInfo({ editedParts: [], unsentParts: [], history: {} })),
      null,
    );
  });
  test("property: random bytes and mutated real plists never throw", () => {
    const blobs = summaryInfoFixtures().map((f) => f.blob);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc
            .tuple(
              fc.constantFrom(...blobs),
              fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 5 }),
            )
            .map(([blob, edits]) => {
              const copy = Uint8Array.from(blob);
              for (const [at, v] of edits) copy[at % copy.length] = v;
              return copy;
            }),
        ),
        (bytes) => {
          const info = parseMessageSummaryInfo(bytes);
          assert.ok(info === null || Array.isArray(info.editedParts));
        },
      ),
      { numRuns: 1500 },
    );
  });
});

describe("encodeMessageSummaryInfo", () => {
  test("writes a binary plist shaped like Messages' and round-trips through the parser", () => {
    const blob = encodeMessageSummaryInfo({
      editedParts: [2],
      unsentParts: [3],
      history: {
        2: [
          { date: new Date("2024-07-29T00:57:15.319Z"), text: "Second test" },
          { date: new Date("2024-07-29T00:57:28.890Z"), text: "Second test was edited! 😀\ufffc" },
        ],
      },
    });
    assert.equal(blob.subarray(0, 8).toString("latin1"), "bplist00");
    const [raw] = parseBuffer(blob) as [Record<string, unknown>];
    assert.deepEqual(Object.keys(raw).sort(), ["ec", "ep", "rp", "ust"]);
    const d = ((raw.ec as Record<string, { d: number }[]>)["2"] ?? [])[0]?.d;
    assert.ok(typeof d === "number" && Math.abs(d - 743907435.319) < 1e-6, String(d));
    assert.deepEqual(parseMessageSummaryInfo(blob), {
      editedParts: [2],
      unsentParts: [3],
      history: {
        2: [
          { date: new Date("2024-07-29T00:57:15.319Z"), text: "Second test" },
          { date: new Date("2024-07-29T00:57:28.890Z"), text: "Second test was edited! 😀\ufffc" },
        ],
      },
    });
  });
  test("unsent-only info round-trips", () => {
    const blob = encodeMessageSummaryInfo({ editedParts: [], unsentParts: [0], history: {} });
    assert.deepEqual(parseMessageSummaryInfo(blob), { editedParts: [], unsentParts: [0], history: {} });
  });
  test("bad input gets a clear error", () => {
    assert.throws(
      () => encodeMessageSummaryInfo({ editedParts: [-1], unsentParts: [], history: {} }),
      /invalid part index -1/,
    );
    assert.throws(
      () =>
        encodeMessageSummaryInfo({
          editedParts: [0],
          unsentParts: [],
          history: { 0: [{ date: new Date(Number.NaN), text: "x" }] },
        }),
      /invalid date/,
    );
  });
});
