import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { attributedBodyText, decodeAttributedBody } from "../../src/messages/typedstream.js";
import { typedStreamFixtures } from "../helpers/typedstream-fixtures.js";

const fixtures = typedStreamFixtures();
const byName = new Map(fixtures.map((f) => [f.name, f]));

function fixture(name: string) {
  const f = byName.get(name);
  if (!f) throw new Error(`missing fixture ${name}`);
  return f;
}

function decodeOk(blob: Uint8Array) {
  const r = decodeAttributedBody(blob);
  if (!r.ok) assert.fail(r.error);
  return r;
}

describe("decodeAttributedBody on every real fixture", () => {
  test("the manifest lists all 34 blobs", () => {
    assert.equal(fixtures.length, 34);
  });
  for (const f of fixtures) {
    if (f.expectedText === null) continue;
    test(`${f.name}: text, UTF-16 length and runs`, () => {
      const r = decodeOk(f.blob);
      assert.equal(r.text, f.expectedText);
      if (f.utf16Length !== null) assert.equal(r.text.length, f.utf16Length);
      if (f.runCount !== null) assert.equal(r.runs.length, f.runCount);
      let expectedStart = 0;
      for (const run of r.runs) {
        assert.equal(run.start, expectedStart);
        expectedStart += run.length;
      }
      assert.equal(expectedStart, r.text.length, "runs cover the text exactly");
      assert.equal(attributedBodyText(f.blob), f.expectedText, "fast text path agrees");
    });
  }
});

describe("ExtraData (deliberately corrupt)", () => {
  test("fails with a clear message instead of throwing", () => {
    const r = decodeAttributedBody(fixture("ExtraData").blob);
    assert.equal(r.ok, false);
    assert.ok(!r.ok && /runs past the end of the data/.test(r.error), !r.ok ? r.error : "");
    assert.equal(attributedBodyText(fixture("ExtraData").blob), null);
  });
});

describe("attribute values", () => {
  test("plain text has one message-part run", () => {
    const r = decodeOk(fixture("AttributedBodyTextOnly").blob);
    assert.deepEqual(r.runs, [{ start: 0, length: 10, attributes: { __kIMMessagePartAttributeName: 0 } }]);
  });
  test("NSNumber 'q' values and base writing direction", () => {
    const r = decodeOk(fixture("AttributedBodyTextOnly2").blob);
    assert.equal(r.runs[0]?.attributes.__kIMBaseWritingDirectionAttributeName, -1);
    assert.equal(r.runs[0]?.attributes.__kIMMessagePartAttributeName, 0);
  });
  test("links decode to URL strings and data detectors to bytes", () => {
    const r = decodeOk(fixture("URL").blob);
    const attrs = r.runs[0]?.attributes ?? {};
    assert.equal(attrs.__kIMLinkAttributeName, "https://github.com/ReagentX/Logria");
    const detected = attrs.__kIMDataDetectedAttributeName;
    assert.ok(detected instanceof Uint8Array);
    assert.equal(Buffer.from(detected.subarray(0, 8)).toString("latin1"), "bplist00");
  });
  test("attachments carry their transfer guid, file name and inline size (int16 tag)", () => {
    const r = decodeOk(fixture("Attachment").blob);
    assert.deepEqual(r.runs[0]?.attributes, {
      __kIMFileTransferGUIDAttributeName: "at_0_2E5F12C3-E649-48AA-954D-3EA67C016BCC",
      __kIMInlineMediaHeightAttributeName: 1139,
      __kIMBaseWritingDirectionAttributeName: -1,
      __kIMMessagePartAttributeName: 0,
      __kIMFilenameAttributeName: "Messages Image(785748029).png",
      __kIMInlineMediaWidthAttributeName: 952,
    });
    assert.deepEqual(r.runs[1], {
      start: 1,
      length: 77,
      attributes: { __kIMBaseWritingDirectionAttributeName: -1, __kIMMessagePartAttributeName: 1 },
    });
  });
  test("multi-part messages number their parts and tag each attachment", () => {
    const r = decodeOk(fixture("MultiPart").blob);
    assert.deepEqual(
      r.runs.map((run) => run.attributes.__kIMMessagePartAttributeName),
      [0, 1, 2, 3, 4, 5],
    );
    const guids = r.runs.map((run) => run.attributes.__kIMFileTransferGUIDAttributeName).filter(Boolean);
    assert.deepEqual(
      guids.map((g) => String(g).slice(0, 5)),
      ["at_0_", "at_2_", "at_4_"],
    );
  });
  test("mentions name the mentioned handle on the right range", () => {
    const r = decodeOk(fixture("Mention").blob);
    const mention = r.runs.find((run) => "__kIMMentionConfirmedMention" in run.attributes);
    assert.ok(mention);
    assert.equal(r.text.slice(mention.start, mention.start + mention.length), "Dad");
    assert.equal(mention.attributes.__kIMMentionConfirmedMention, "+15558675309");
  });
  test("audio transcription text is kept as an attribute", () => {
    const r = decodeOk(fixture("Transcription").blob);
    assert.equal(r.runs[0]?.attributes.IMAudioTranscription, "This is a test");
  });
  test("emoji ranges are counted in UTF-16 units", () => {
    const r = decodeOk(fixture("EmojiBoldUnderline").blob);
    assert.equal(
      r.runs.reduce((n, run) => n + run.length, 0),
      17,
    );
  });
});

describe("robustness", () => {
  test("absent and empty input", () => {
    assert.equal(attributedBodyText(null), null);
    assert.equal(attributedBodyText(undefined), null);
    assert.equal(attributedBodyText(new Uint8Array(0)), null);
    const r = decodeAttributedBody(new Uint8Array(0));
    assert.equal(r.ok, false);
  });
  test("non-typedstream data is rejected with a message", () => {
    const r = decodeAttributedBody(Buffer.from("bplist00 not a typedstream"));
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.error.startsWith("attributedBody: "));
  });
  test("every truncation of a real blob fails gracefully", () => {
    for (const f of fixtures) {
      for (let n = 0; n < f.blob.length - 3; n++) {
        const r = decodeAttributedBody(f.blob.subarray(0, n));
        assert.equal(r.ok, false, `${f.name} truncated to ${n} bytes decoded`);
      }
    }
  });
  test("deeply nested objects hit the depth cap instead of the stack", () => {
    const header = Buffer.from("040b73747265616d747970656481e80384014084", "hex");
    // Root: new object whose class is new "X"; its content is "@" repeatedly, each another new object of class X.
    const parts: number[] = [...header, 0x84, 0x84, 0x01, 0x58, 0x00, 0x85];
    for (let i = 0; i < 5000; i++) parts.push(0x92, 0x84, 0x93);
    const r = decodeAttributedBody(Uint8Array.from(parts));
    assert.equal(r.ok, false);
    assert.ok(!r.ok && /nested/.test(r.error), !r.ok ? r.error : "");
  });
  test("property: random bytes never throw", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const r = decodeAttributedBody(bytes);
        assert.equal(typeof r.ok, "boolean");
        attributedBodyText(bytes);
      }),
      { numRuns: 2000 },
    );
  });
  test("property: mutated real blobs never throw and a success has consistent runs", () => {
    const blobs = fixtures.map((f) => f.blob);
    fc.assert(
      fc.property(
        fc.constantFrom(...blobs),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        (blob, edits) => {
          const copy = Uint8Array.from(blob);
          for (const [at, value] of edits) copy[at % copy.length] = value;
          const r = decodeAttributedBody(copy);
          if (r.ok) {
            for (const run of r.runs) assert.ok(Number.isFinite(run.length));
          } else {
            assert.match(r.error, /^attributedBody: /);
          }
          const text = attributedBodyText(copy);
          assert.ok(text === null || typeof text === "string");
        },
      ),
      { numRuns: 3000 },
    );
  });
});
