// Encoder for `message.attributedBody` blobs, used by the demo-data generator and by tests.
// It writes what Messages writes: a little-endian typedstream whose root is an NS(Mutable)AttributedString
// with one attribute run per message part. Encoding "Noter test" reproduces the real
// `AttributedBodyTextOnly` fixture byte for byte (see test/typedstream-encode.test.ts).
import { FIRST_REFERENCE, TAG_END, TAG_INT16, TAG_INT32, TAG_NEW, TAG_NIL } from "./typedstream.js";

/** Messages splits a message into parts at each attachment placeholder. */
const OBJECT_REPLACEMENT = "\ufffc";
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export interface EncodeAttributedBodyOptions {
  /** Root class NSMutableAttributedString (default, as Messages writes for sent text) or NSAttributedString. */
  mutable?: boolean;
  /** File transfer guids, one per U+FFFC in the text, in order (stored verbatim, e.g. "at_0_<GUID>"). */
  attachmentGuids?: string[];
  /** Voice-message transcriptions (`IMAudioTranscription`), by U+FFFC index (null or absent: none). */
  transcriptions?: (string | null | undefined)[];
  /** Mentions: the UTF-16 range of the name in the text and the handle it confirms (phone or email). */
  mentions?: { start: number; length: number; handleId: string }[];
}

type ClassChain = readonly (readonly [name: string, version: number])[];

const NSOBJECT = ["NSObject", 0] as const;
const MUTABLE_ATTRIBUTED: ClassChain = [
  ["NSMutableAttributedString", 0],
  ["NSAttributedString", 0],
  NSOBJECT,
];
const ATTRIBUTED: ClassChain = [["NSAttributedString", 0], NSOBJECT];
const MUTABLE_STRING: ClassChain = [["NSMutableString", 1], ["NSString", 1], NSOBJECT];
const STRING: ClassChain = [["NSString", 1], NSOBJECT];
const DICTIONARY: ClassChain = [["NSDictionary", 0], NSOBJECT];
const NUMBER: ClassChain = [["NSNumber", 0], ["NSValue", 0], NSOBJECT];

const utf8 = new TextEncoder();

class TypedStreamWriter {
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;
  private readonly sharedStrings = new Map<string, number>();
  /** Objects, classes and C strings share one numbering, in the order their "new" tag is written. */
  private objectCount = 0;
  private readonly classes = new Map<string, number>();
  private readonly cStrings = new Map<string, number>();
  private readonly stringObjects = new Map<string, number>();

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  int(v: number): void {
    if (v >= -110 && v <= 127) {
      this.byte(v & 0xff);
    } else if (v >= -0x8000 && v <= 0x7fff) {
      this.ensure(3);
      this.buf[this.pos++] = TAG_INT16;
      this.buf.writeUInt16LE(v & 0xffff, this.pos);
      this.pos += 2;
    } else {
      this.ensure(5);
      this.buf[this.pos++] = TAG_INT32;
      this.buf.writeUInt32LE(v >>> 0, this.pos);
      this.pos += 4;
    }
  }

  private reference(index: number): void {
    this.int(index + FIRST_REFERENCE);
  }

  bytes(data: Uint8Array): void {
    this.int(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  sharedString(s: string): void {
    const known = this.sharedStrings.get(s);
    if (known !== undefined) {
      this.reference(known);
      return;
    }
    this.byte(TAG_NEW);
    this.bytes(utf8.encode(s));
    this.sharedStrings.set(s, this.sharedStrings.size);
  }

  cString(s: string): void {
    const known = this.cStrings.get(s);
    if (known !== undefined) {
      this.reference(known);
      return;
    }
    this.byte(TAG_NEW);
    this.sharedString(s);
    this.cStrings.set(s, this.objectCount++);
  }

  private classChain(chain: ClassChain): void {
    for (const [name, version] of chain) {
      const known = this.classes.get(name);
      if (known !== undefined) {
        this.reference(known);
        return;
      }
      this.byte(TAG_NEW);
      this.sharedString(name);
      this.int(version);
      this.classes.set(name, this.objectCount++);
    }
    this.byte(TAG_NIL);
  }

  beginObject(chain: ClassChain): void {
    this.byte(TAG_NEW);
    this.objectCount++;
    this.classChain(chain);
  }

  endObject(): void {
    this.byte(TAG_END);
  }

  /** An NSString object; equal strings written again become references (Messages reuses its key constants). */
  stringObject(s: string, chain: ClassChain = STRING, unique = true): void {
    const known = unique ? this.stringObjects.get(s) : undefined;
    if (known !== undefined) {
      this.reference(known);
      return;
    }
    const index = this.objectCount;
    this.beginObject(chain);
    this.sharedString("+");
    this.bytes(utf8.encode(s));
    this.endObject();
    if (unique) this.stringObjects.set(s, index);
  }

  numberObject(n: number): void {
    this.beginObject(NUMBER);
    const type = Number.isInteger(n) && n >= -0x80000000 && n <= 0x7fffffff ? "i" : "d";
    if (type === "d")
      throw new Error("encodeAttributedBody: only 32-bit integer attribute values are supported");
    this.sharedString("*");
    this.cString(type);
    this.sharedString(type);
    this.int(n);
    this.endObject();
  }

  header(): void {
    this.byte(4); // streamer version
    this.bytes(utf8.encode("streamtyped"));
    this.int(1000); // system version, as current macOS writes
  }

  result(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

interface Part {
  length: number;
  attributes: [key: string, value: string | number][];
}

/**
 * One attribute run per message part (a stretch of text, or one attachment placeholder), as Messages writes
 * them; a mention splits its text part into runs that keep the part's index, as in the real `Mention` blob.
 */
function splitParts(
  text: string,
  guids: readonly string[],
  transcriptions: readonly (string | null | undefined)[],
  mentions: readonly { start: number; length: number; handleId: string }[],
): Part[] {
  const parts: Part[] = [];
  let partIndex = 0;
  let attachmentIndex = 0;
  let segment = 0;
  const pushText = (from: number, to: number): void => {
    if (to <= from) return;
    const index = partIndex++;
    let at = from;
    for (const m of mentions) {
      if (m.start < from || m.start + m.length > to) continue;
      if (m.start > at)
        parts.push({ length: m.start - at, attributes: [["__kIMMessagePartAttributeName", index]] });
      parts.push({
        length: m.length,
        attributes: [
          ["__kIMMentionConfirmedMention", m.handleId],
          ["__kIMMessagePartAttributeName", index],
        ],
      });
      at = m.start + m.length;
    }
    if (to > at) parts.push({ length: to - at, attributes: [["__kIMMessagePartAttributeName", index]] });
  };
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== OBJECT_REPLACEMENT) continue;
    pushText(segment, i);
    const guid = guids[attachmentIndex] as string;
    const transcription = transcriptions[attachmentIndex];
    attachmentIndex++;
    const attributes: Part["attributes"] = [["__kIMFileTransferGUIDAttributeName", guid]];
    if (transcription) attributes.push(["IMAudioTranscription", transcription]);
    attributes.push(["__kIMMessagePartAttributeName", partIndex++]);
    parts.push({ length: 1, attributes });
    segment = i + 1;
  }
  pushText(segment, text.length);
  return parts;
}

/**
 * Encodes text as a Messages attributedBody blob. Throws a clear Error for text that is not well-formed
 * UTF-16 (a lone surrogate cannot be stored as UTF-8) or when the attachment guids do not match the U+FFFC count.
 */
export function encodeAttributedBody(text: string, options: EncodeAttributedBodyOptions = {}): Buffer {
  if (typeof text !== "string") throw new TypeError("encodeAttributedBody: text must be a string");
  if (LONE_SURROGATE.test(text)) {
    throw new Error(
      "encodeAttributedBody: text contains a lone UTF-16 surrogate, which cannot be stored as UTF-8",
    );
  }
  const guids = options.attachmentGuids ?? [];
  let placeholders = 0;
  for (let i = text.indexOf(OBJECT_REPLACEMENT); i !== -1; i = text.indexOf(OBJECT_REPLACEMENT, i + 1))
    placeholders++;
  if (placeholders !== guids.length) {
    throw new Error(
      `encodeAttributedBody: text has ${placeholders} attachment placeholder(s) (U+FFFC) but ${guids.length} attachment guid(s) were given`,
    );
  }
  const mentions = [...(options.mentions ?? [])].sort((a, b) => a.start - b.start);
  for (const m of mentions) {
    const covered = text.slice(m.start, m.start + m.length);
    if (
      !Number.isInteger(m.start) ||
      m.length < 1 ||
      covered.length !== m.length ||
      covered.includes(OBJECT_REPLACEMENT)
    )
      throw new Error(`encodeAttributedBody: mention at ${m.start}+${m.length} is not a stretch of the text`);
  }
  const mutable = options.mutable ?? true;
  const w = new TypedStreamWriter();
  w.header();
  w.sharedString("@");
  w.beginObject(mutable ? MUTABLE_ATTRIBUTED : ATTRIBUTED);
  w.sharedString("@");
  // The text object is never uniqued: it is distinct from any attribute key even when equal to one.
  w.stringObject(text, mutable ? MUTABLE_STRING : STRING, false);
  splitParts(text, guids, options.transcriptions ?? [], mentions).forEach((part, index) => {
    w.sharedString("iI");
    w.int(index + 1); // 1-based attribute-set index; each part has its own (new) set
    w.int(part.length);
    w.sharedString("@");
    w.beginObject(DICTIONARY);
    w.sharedString("i");
    w.int(part.attributes.length);
    for (const [key, value] of part.attributes) {
      w.sharedString("@");
      w.stringObject(key);
      w.sharedString("@");
      if (typeof value === "number") w.numberObject(value);
      else w.stringObject(value, STRING, false);
    }
    w.endObject();
  });
  w.endObject();
  return w.result();
}
