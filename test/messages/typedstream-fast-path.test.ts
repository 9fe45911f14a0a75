// attributedBodyText reads the text of the common blob shapes without the reader (commonShapeText). These
// tests hold that shortcut to the reader's answer on every real fixture, every blob of a generated demo
// chat.db, any text the encoder writes, and damaged or malformed text bytes. Passing explicit bounds (`{}`)
// makes attributedBodyText use the reader, which is the reference here.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import fc from "fast-check";
import { generateDemo } from "../../src/demo/generate.js";
import { attributedBodyText, commonShapeText } from "../../src/messages/typedstream.js";
import { encodeAttributedBody } from "../../src/messages/typedstream-encode.js";
import { typedStreamFixtures } from "../helpers/typedstream-fixtures.js";

const readerText = (blob: Uint8Array) => attributedBodyText(blob, {});

/** The shortcut either declines or gives the reader's text, for the blob as a Buffer and as a plain Uint8Array. */
function assertAgrees(blob: Uint8Array, label: string): string | undefined {
  const expected = readerText(blob);
  const fast = commonShapeText(blob);
  if (fast !== undefined) assert.equal(fast, expected, `${label}: shortcut and reader differ`);
  assert.equal(attributedBodyText(blob), expected, label);
  const other = Buffer.isBuffer(blob) ? new Uint8Array(blob) : Buffer.from(blob);
  assert.equal(commonShapeText(other), fast, `${label}: Buffer and Uint8Array differ`);
  assert.equal(attributedBodyText(other), expected, label);
  return fast;
}

describe("the common-shape shortcut gives the reader's text", () => {
  test("on every real fixture, and it reads all but the corrupt one", () => {
    const fixtures = typedStreamFixtures();
    const declined = fixtures.filter((f) => assertAgrees(f.blob, f.name) === undefined).map((f) => f.name);
    // Both real root classes (NSMutableAttributedString and NSAttributedString) have the shape.
    assert.deepEqual(declined, ["ExtraData"]);
  });

  describe("on every attributedBody of a generated demo chat.db", () => {
    let dir: string;
    let blobs: Buffer[];
    before(() => {
      dir = mkdtempSync(join(tmpdir(), "typedstream-fast-path-"));
      const demo = generateDemo({ dir, messages: 3000, seed: 11, now: new Date(Date.UTC(2026, 0, 1)) });
      const db = new Database(demo.chatDb, { readonly: true });
      blobs = db
        .prepare("SELECT attributedBody FROM message WHERE attributedBody IS NOT NULL")
        .pluck()
        .all() as Buffer[];
      db.close();
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    test("each one, with attachments, mentions and transcriptions among them", () => {
      assert.ok(blobs.length > 1000, `${blobs.length} blobs`);
      const kinds = ["__kIMFileTransferGUIDAttributeName", "IMAudioTranscription", "Mention"];
      for (const kind of kinds)
        assert.ok(
          blobs.some((b) => b.includes(kind)),
          `no demo blob with ${kind}`,
        );
      for (const [i, blob] of blobs.entries())
        assert.notEqual(assertAgrees(blob, `demo blob ${i}`), undefined, `demo blob ${i} not read directly`);
    });
  });

  test("on any text the encoder writes, either root class, lengths in one, two and four bytes", () => {
    const text = fc
      .tuple(
        fc.constantFrom("", "\ufeff", "\ufffd", "\u00e9"),
        fc.string({ unit: "grapheme", maxLength: 200 }),
        fc.constantFrom(0, 1, 60, 12_000),
      )
      .map(([start, rest, repeat]) => `${start}${rest}${"ab😅".repeat(repeat)}`.replaceAll("\ufffc", ""));
    fc.assert(
      fc.property(text, fc.boolean(), (t, mutable) => {
        const blob = encodeAttributedBody(t, { mutable });
        assertAgrees(blob, JSON.stringify(t.slice(0, 20)));
        assert.equal(attributedBodyText(blob), t.startsWith("\ufeff") ? t.slice(1) : t);
      }),
      { numRuns: 200 },
    );
  });

  test("on malformed UTF-8, a leading BOM and a real U+FFFD in the text", () => {
    const base = encodeAttributedBody("xxxxxxxx");
    const at = base.indexOf("xxxxxxxx");
    const sequences = [
      [0xc0, 0x80], // overlong
      [0xed, 0xa0, 0x80], // a UTF-16 surrogate
      [0xf0, 0x9f], // truncated
      [0x80], // lone continuation byte
      [0xff],
      [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
      [0xef, 0xbb, 0xbf], // BOM: dropped by the strict decoder
      [0xef, 0xbf, 0xbd], // U+FFFD itself: valid
    ];
    for (const sequence of sequences) {
      for (const offset of [0, 3]) {
        const blob = Buffer.from(base);
        blob.set(sequence, at + offset);
        assertAgrees(blob, `bytes ${sequence.map((b) => b.toString(16)).join(" ")} at ${offset}`);
      }
    }
  });

  test("on every truncation and every single-byte change of a common-shape blob", () => {
    for (const blob of [
      encodeAttributedBody("see you at 8"),
      encodeAttributedBody("Test 3", { mutable: false }),
    ]) {
      for (let n = 0; n <= blob.length; n++) assertAgrees(blob.subarray(0, n), `first ${n} bytes`);
      for (let i = 0; i < blob.length; i++) {
        for (const value of [0x00, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x85, 0x86, 0x92, 0xff]) {
          const changed = Buffer.from(blob);
          changed[i] = value;
          assertAgrees(changed, `byte ${i} = ${value}`);
        }
      }
    }
  });
});
