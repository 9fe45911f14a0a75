import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { decodeAttributedBody } from "../../src/messages/typedstream.js";
import { encodeAttributedBody } from "../../src/messages/typedstream-encode.js";
import { typedStreamFixtures } from "../helpers/typedstream-fixtures.js";

/**
 * These tests check the encoding, not the decoder's bounds (decoder-bounds.test.ts does): a generous clock,
 * so a 40,000-run blob on a machine busy with other work is not cut off by the 2 s production deadline.
 */
const ENCODING_TEST_LIMITS = { maxMillis: 120_000 };

function decodeOk(blob: Uint8Array) {
  const r = decodeAttributedBody(blob, ENCODING_TEST_LIMITS);
  if (!r.ok) assert.fail(r.error);
  return r;
}

describe("encodeAttributedBody", () => {
  test('"Noter test" reproduces the real AttributedBodyTextOnly blob byte for byte', () => {
    const real = typedStreamFixtures().find((f) => f.name === "AttributedBodyTextOnly");
    assert.ok(real);
    assert.deepEqual(new Uint8Array(encodeAttributedBody("Noter test")), real.blob);
  });

  test("the empty string has the real Blank blob's structure: text '' and no runs", () => {
    const r = decodeOk(encodeAttributedBody("", { mutable: false }));
    assert.deepEqual(r, { ok: true, text: "", runs: [] });
  });

  test("non-mutable root decodes the same", () => {
    const blob = encodeAttributedBody("Test 3", { mutable: false });
    assert.equal(Buffer.from(blob.subarray(0, 60)).includes("NSMutable"), false);
    assert.deepEqual(decodeOk(blob).runs, [
      { start: 0, length: 6, attributes: { __kIMMessagePartAttributeName: 0 } },
    ]);
  });

  test("attachments become their own parts, like the real MultiPart blob", () => {
    const text = "\ufffctest 1\ufffctest 2 \ufffctest 3";
    const guids = ["at_0_A", "at_2_B", "at_4_C"];
    const mine = decodeOk(encodeAttributedBody(text, { attachmentGuids: guids }));
    const real = decodeOk(
      typedStreamFixtures().find((f) => f.name === "MultiPart")?.blob ?? new Uint8Array(),
    );
    assert.equal(mine.text, real.text);
    const shape = (runs: typeof mine.runs) =>
      runs.map((r) => [
        r.start,
        r.length,
        r.attributes.__kIMMessagePartAttributeName,
        "__kIMFileTransferGUIDAttributeName" in r.attributes,
      ]);
    assert.deepEqual(shape(mine.runs), shape(real.runs));
    assert.deepEqual(
      mine.runs.map((r) => r.attributes.__kIMFileTransferGUIDAttributeName).filter(Boolean),
      guids,
    );
  });

  test("large part counts use wide integers correctly", () => {
    const text = "\ufffc".repeat(40_000);
    const guids = Array.from({ length: 40_000 }, (_, i) => `g${i}`);
    const r = decodeOk(encodeAttributedBody(text, { attachmentGuids: guids }));
    assert.equal(r.runs.length, 40_000);
    assert.equal(r.runs[39_999]?.attributes.__kIMMessagePartAttributeName, 39_999);
    assert.equal(r.runs[39_999]?.attributes.__kIMFileTransferGUIDAttributeName, "g39999");
  });

  test("bad input gets a clear error", () => {
    assert.throws(() => encodeAttributedBody("a\ud800b"), /lone UTF-16 surrogate/);
    assert.throws(
      () => encodeAttributedBody("x\ufffc"),
      /1 attachment placeholder\(s\) \(U\+FFFC\) but 0 attachment guid/,
    );
    assert.throws(() => encodeAttributedBody("x", { attachmentGuids: ["g"] }), /0 attachment placeholder/);
  });

  test("text longer than 64 KiB round-trips (32-bit length tag)", () => {
    const text = `${"é😀\0".repeat(30_000)}end`;
    assert.ok(Buffer.byteLength(text) > 65_536);
    const r = decodeOk(encodeAttributedBody(text));
    assert.equal(r.text, text);
    assert.deepEqual(r.runs, [
      { start: 0, length: text.length, attributes: { __kIMMessagePartAttributeName: 0 } },
    ]);
  });

  test("property: any well-formed string round-trips, with runs covering it", () => {
    const textArb = fc.oneof(
      fc.string({ unit: "binary", maxLength: 300 }),
      fc.string({ unit: "grapheme", maxLength: 100 }),
      fc.string({ unit: fc.constantFrom("a", "\0", "\ufffc", "😀", "\r", "é"), maxLength: 60 }),
    );
    fc.assert(
      fc.property(textArb, fc.boolean(), (text, mutable) => {
        const count = text.split("\ufffc").length - 1;
        const guids = Array.from({ length: count }, (_, i) => `at_${i}_GUID`);
        const r = decodeOk(encodeAttributedBody(text, { mutable, attachmentGuids: guids }));
        assert.equal(r.text, text);
        assert.equal(
          r.runs.reduce((n, run) => n + run.length, 0),
          text.length,
        );
        assert.deepEqual(
          r.runs.map((run) => run.attributes.__kIMMessagePartAttributeName),
          r.runs.map((_, i) => i),
        );
      }),
      { numRuns: 1500 },
    );
  });
});
