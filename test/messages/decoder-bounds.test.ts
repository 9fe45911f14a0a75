// Every decoder of chat.db blobs has size, depth, work and time bounds (issue #16 item 2): the probe's
// 147-byte plist that doubled its work per nesting level, self-containing plists, shared references in
// typedstreams, regex backtracking in the XML reader; then fuzzing with the real fixtures. Each hostile input
// here would run for hours (or until memory ran out) without the bounds, so a hang fails the test by timeout.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { checkBinaryPlistShape, parseBinaryPlist } from "../../src/messages/binary-plist.js";
import { DecodeBudget, DecodeLimitError } from "../../src/messages/decode-limits.js";
import { encodeMessageSummaryInfo, parseMessageSummaryInfo } from "../../src/messages/summary-info.js";
import { attributedBodyText, decodeAttributedBody } from "../../src/messages/typedstream.js";
import { parseXmlPlist } from "../../src/messages/xml-plist.js";
import { summaryInfoFixtures, typedStreamFixtures } from "../helpers/typedstream-fixtures.js";

/** Hangs fail here, well before the default (infinite) test timeout. Generous for a busy machine. */
const HANG = { timeout: 60_000 };

/** A bplist00 file from raw object encodings (one-byte offsets and references), top object 0. */
function bplist(objects: number[][]): Buffer {
  const body: number[] = [...Buffer.from("bplist00")];
  const offsets: number[] = [];
  for (const object of objects) {
    offsets.push(body.length);
    body.push(...object);
  }
  const offsetSize = body.length + objects.length > 255 ? 2 : 1;
  const tableAt = body.length;
  for (const offset of offsets) {
    if (offsetSize === 2) body.push(offset >> 8, offset & 0xff);
    else body.push(offset);
  }
  const trailer = Buffer.alloc(32);
  trailer[6] = offsetSize;
  trailer[7] = 1;
  trailer.writeBigUInt64BE(BigInt(objects.length), 8);
  trailer.writeBigUInt64BE(0n, 16);
  trailer.writeBigUInt64BE(BigInt(tableAt), 24);
  return Buffer.concat([Buffer.from(body), trailer]);
}

/** The probe's shape: each array holds the next one twice, so expanding doubles per level. */
function doublingPlist(levels: number): Buffer {
  const objects: number[][] = [];
  for (let i = 0; i < levels; i++) objects.push([0xa2, i + 1, i + 1]);
  objects.push([0x10, 0]);
  return bplist(objects);
}

describe("binary plists (message_summary_info)", () => {
  test("the probe's 147-byte doubling plist is refused at once instead of hanging", HANG, () => {
    const probe = doublingPlist(26);
    assert.equal(probe.length, 147);
    assert.equal(parseMessageSummaryInfo(probe), null);
    assert.throws(
      () => checkBinaryPlistShape(probe, new DecodeBudget({ maxValues: 50_000 })),
      (error: unknown) => error instanceof DecodeLimitError && /more than 50000 values/.test(error.message),
    );
    // 2^60 values: only a bound that never expands anything can answer this.
    assert.equal(parseMessageSummaryInfo(doublingPlist(60)), null);
  });

  test("a small doubling plist within the limits still parses", () => {
    const value = parseBinaryPlist(doublingPlist(3)) as unknown[][];
    assert.deepEqual(value, [
      [
        [0, 0],
        [0, 0],
      ],
      [
        [0, 0],
        [0, 0],
      ],
    ]);
  });

  test("an array that contains itself, directly or through another, is refused", HANG, () => {
    const direct = bplist([[0xa1, 0]]);
    const indirect = bplist([
      [0xa1, 1],
      [0xa2, 2, 0],
      [0x10, 7],
    ]);
    for (const blob of [direct, indirect]) {
      assert.throws(() => parseBinaryPlist(blob), /contains itself|nested more than/);
      assert.equal(parseMessageSummaryInfo(blob), null);
    }
  });

  test("deep nesting, references out of range and bad trailers are refused clearly", () => {
    const deep: number[][] = [];
    for (let i = 0; i < 100; i++) deep.push([0xa1, i + 1]);
    deep.push([0x10, 1]);
    assert.throws(() => parseBinaryPlist(bplist(deep)), /nested more than 64 levels/);
    assert.throws(() => parseBinaryPlist(bplist([[0xa1, 9]])), /reference 9 is out of range/);
    const badTrailer = Buffer.from(bplist([[0x10, 1]]));
    badTrailer.writeBigUInt64BE(1n << 40n, badTrailer.length - 32 + 8); // claims 2^40 objects
    assert.throws(() => parseBinaryPlist(badTrailer), /offset table does not fit/);
  });

  test("one large string referenced many times counts as its expanded size", () => {
    const big = [0x5f, 0x12, 0x00, 0x01, 0x00, 0x00, ...Buffer.alloc(65_536, 0x61)]; // ASCII string, 64 KiB
    const refs = Array.from({ length: 100 }, () => 1);
    const blob = bplist([[0xaf, 0x10, refs.length, ...refs], big]); // 100 × 64 KiB = 6.4 MB when expanded
    assert.throws(
      () => parseBinaryPlist(blob, { maxBytes: 1024 * 1024 }),
      (error: unknown) =>
        error instanceof DecodeLimitError && /bytes of strings and data/.test(error.message),
    );
    assert.equal(parseMessageSummaryInfo(blob), null);
  });

  test("blobs larger than the size limit are not decoded", () => {
    const real = encodeMessageSummaryInfo({
      editedParts: [0],
      unsentParts: [],
      history: { 0: [{ date: new Date("2024-01-01T00:00:00Z"), text: "x".repeat(2000) }] },
    });
    assert.ok(parseMessageSummaryInfo(real));
    assert.equal(parseMessageSummaryInfo(real, { maxBytes: real.length - 1 }), null);
  });

  test("every real fixture passes the shape check and keeps decoding", () => {
    for (const fixture of summaryInfoFixtures()) {
      const buffer = Buffer.from(fixture.blob);
      if (buffer.toString("latin1", 0, 6) === "bplist") checkBinaryPlistShape(buffer, new DecodeBudget());
      assert.ok(parseMessageSummaryInfo(fixture.blob), fixture.name);
    }
  });
});

describe("XML plists", () => {
  test("a tag that never closes costs linear time, not a regex backtracking hang", HANG, () => {
    const hostile = `<plist><dict><key a${" ".repeat(200_000)}`;
    assert.throws(() => parseXmlPlist(hostile), /unexpected markup|ends early|not closed/);
    assert.equal(parseMessageSummaryInfo(Buffer.from(`<?xml version="1.0"?>${hostile}`)), null);
  });

  test("self-closing tags with or without a space, and nesting past the limit", () => {
    assert.deepEqual(parseXmlPlist("<plist><array><true/><false /><string/></array></plist>"), [
      true,
      false,
      "",
    ]);
    const deep = `<plist>${"<array>".repeat(100)}${"</array>".repeat(100)}</plist>`;
    assert.throws(() => parseXmlPlist(deep), /nested more than 64 levels/);
  });

  test("a plist that takes longer than its time limit gives up", () => {
    let clock = 0;
    const many = `<plist><array>${"<integer>1</integer>".repeat(5000)}</array></plist>`;
    assert.equal((parseXmlPlist(many) as unknown[]).length, 5000);
    assert.throws(
      () => parseXmlPlist(many, { maxMillis: 100, now: () => (clock += 10) }),
      (error: unknown) => error instanceof DecodeLimitError && /longer than 100 ms/.test(error.message),
    );
  });
});

/**
 * A typedstream whose NSArray at each level holds the next level's array twice: once written out, once
 * by reference. The decoder itself reads it in linear time, but anything walking the result (rendering,
 * JSON) would expand the shared references: 2^levels values.
 */
function sharedReferenceTypedStream(levels: number): Uint8Array {
  const out: number[] = [0x04, 0x0b, ...Buffer.from("streamtyped"), 0x81, 0xe8, 0x03, 0x84, 0x01, 0x40];
  let first = true;
  // Object slots: the outermost array is 0, the NSArray class 1, the next array 2, then 3, ...
  const emit = (level: number, slot: number) => {
    out.push(0x84);
    if (first) out.push(0x84, 0x84, 0x07, ...Buffer.from("NSArray"), 0x00, 0x85);
    else out.push(0x93);
    if (first) out.push(0x84, 0x01, 0x69);
    else out.push(0x94);
    first = false;
    if (level === 0) {
      out.push(0x00, 0x86);
      return;
    }
    const child = slot === 0 ? 2 : slot + 1;
    out.push(0x02, 0x92);
    emit(level - 1, child);
    out.push(0x92, 0x92 + child, 0x86);
  };
  emit(levels, 0);
  return Uint8Array.from(out);
}

describe("typedstreams (attributedBody)", () => {
  test("shared references are charged as copies, so nested sharing cannot multiply the work", HANG, () => {
    const small = decodeAttributedBody(sharedReferenceTypedStream(2));
    assert.ok(!small.ok && /does not contain an attributed string/.test(small.error), JSON.stringify(small));
    const hostile = decodeAttributedBody(sharedReferenceTypedStream(50));
    assert.ok(!hostile.ok && /too many values/.test(hostile.error), JSON.stringify(hostile));
  });

  test("blobs over the size limit and decodes past their deadline fail with a clear message", () => {
    const long = typedStreamFixtures().find((f) => f.name === "LongMessage");
    assert.ok(long);
    const tooBig = decodeAttributedBody(long.blob, { maxBytes: 1000 });
    assert.ok(!tooBig.ok && /not decoded, it is \d+ bytes/.test(tooBig.error));
    assert.equal(attributedBodyText(long.blob, { maxBytes: 1000 }), null);
    let clock = 0;
    const slow = decodeAttributedBody(sharedReferenceTypedStream(9), {
      maxMillis: 5,
      now: () => (clock += 10),
    });
    assert.ok(!slow.ok && /longer than 5 ms|too many values/.test(slow.error), JSON.stringify(slow));
  });
});

describe("fuzzing with the real fixtures", () => {
  const blobs = typedStreamFixtures().map((f) => f.blob);
  const plists = summaryInfoFixtures().map((f) => f.blob);

  /** Overwrites, inserts, deletes and duplicates byte ranges: structural damage, not just flipped bytes. */
  const mutated = (sources: Uint8Array[]) =>
    fc
      .tuple(
        fc.constantFrom(...sources),
        fc.array(
          fc.tuple(fc.constantFrom("set", "insert", "delete", "copy"), fc.nat(), fc.nat(), fc.nat(255)),
          { minLength: 1, maxLength: 8 },
        ),
      )
      .map(([source, edits]) => {
        let bytes = Array.from(source);
        for (const [kind, a, b, value] of edits) {
          const at = a % (bytes.length + 1);
          const length = 1 + (b % 16);
          if (kind === "set") bytes[at % bytes.length] = value;
          else if (kind === "insert") bytes.splice(at, 0, value);
          else if (kind === "delete") bytes.splice(at, length);
          else bytes.splice(at, 0, ...bytes.slice((b * 7) % bytes.length, ((b * 7) % bytes.length) + length));
          if (bytes.length === 0) bytes = [0];
        }
        return Uint8Array.from(bytes);
      });

  test("mutated real typedstreams never throw and stay within the work bound", HANG, () => {
    fc.assert(
      fc.property(mutated(blobs), (bytes) => {
        // A clock that counts looks: the budget reads it every 1024 values, so this bounds the work done.
        let looks = 0;
        const result = decodeAttributedBody(bytes, { now: () => looks++ });
        assert.ok(
          looks <= (bytes.length * 4 + 1024) / 1024 + 2,
          `${looks} clock looks for ${bytes.length} bytes`,
        );
        if (!result.ok) assert.match(result.error, /^attributedBody: /);
        const text = attributedBodyText(bytes);
        assert.ok(text === null || typeof text === "string");
      }),
      { numRuns: 4000 },
    );
  });

  test("mutated real summary-info plists (binary, and as XML) never throw", HANG, () => {
    fc.assert(
      fc.property(mutated(plists), (bytes) => {
        const info = parseMessageSummaryInfo(bytes);
        assert.ok(info === null || (Array.isArray(info.editedParts) && Array.isArray(info.unsentParts)));
      }),
      { numRuns: 4000 },
    );
  });

  test("random reference graphs (shared, cyclic, deep) never hang the plist reader", HANG, () => {
    const graph = fc.array(
      fc.oneof(
        fc.array(fc.nat(40), { maxLength: 6 }).map((refs) => ({ refs })),
        fc.nat(127).map((n) => ({ int: n })),
      ),
      { minLength: 1, maxLength: 40 },
    );
    fc.assert(
      fc.property(graph, (nodes) => {
        const objects = nodes.map((node) =>
          "refs" in node
            ? [0xa0 | node.refs.length, ...node.refs.map((r) => r % nodes.length)]
            : [0x10, node.int],
        );
        const blob = bplist(objects);
        try {
          parseBinaryPlist(blob, { maxValues: 10_000 });
        } catch (error) {
          assert.ok(error instanceof Error && !(error instanceof RangeError), String(error));
        }
        assert.ok(parseMessageSummaryInfo(blob) === null);
      }),
      { numRuns: 3000 },
    );
  });
});
