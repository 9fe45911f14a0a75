import { setOwn } from "../util/set-own.js";
import { DEFAULT_DECODE_LIMITS, DecodeBudget, DecodeLimitError, type DecodeLimits } from "./decode-limits.js";

// Decoder for `message.attributedBody`: an NSArchiver "typedstream" holding an NS(Mutable)AttributedString.
//
// Why hand-written rather than the npm package `node-typedstream` (1.4.1, a port of dgelessus/python-typedstream):
// measured on the 34 real fixtures it decodes 33 (throws an exception on the corrupt one) at ~4k blobs/s,
// against ~130k (full) / ~500k (text only) here; it reads 32-bit integers with a 2-byte read (any 0x82 tag
// throws), ships a 60 MB tarball (it packs its own older tarballs), needs Node's Buffer and has one maintainer.
// The format is small and well documented by the reference decoders, so a direct bounds-checked
// recursive-descent reader over a Uint8Array is the better trade (see docs/readme-parts/typedstream.md).
//
// Format in brief (little-endian "streamtyped" as written by Messages; big-endian "typedstream" also read):
//   header  : streamer version (int), signature (length-prefixed bytes), system version (int)
//   body    : groups of <type encoding (shared string)> <one value per type in it>
//   integers: one signed byte, or 0x81 + int16, or 0x82 + int32; 0x83 + IEEE float/double for f/d
//   0x84 new (string/object/class follows), 0x85 nil, 0x86 end of object, >= 0x92 reference numbers
//   Shared strings (type encodings, class names, C strings) and objects (objects and classes, numbered in
//   the order their 0x84 tag is read) each have their own reference table.

/** A range of the text (in UTF-16 code units, like JS strings) and the attributes Messages gave it. */
export interface AttributeRun {
  start: number;
  /** Length in UTF-16 code units. */
  length: number;
  /** Keys as stored (e.g. `__kIMMessagePartAttributeName`); values decoded to JS. Shared between runs. */
  attributes: Record<string, unknown>;
}

export type AttributedBodyResult =
  | { ok: true; text: string; runs: AttributeRun[] }
  | { ok: false; error: string };

/** A value of a class this decoder has no JS mapping for: its class name and the raw decoded fields. */
export interface ArchivedObject {
  $class: string;
  values: unknown[];
}

/** Raised for malformed input; its message is meant for users and logs. */
export class TypedStreamError extends Error {
  override name = "TypedStreamError";
}

// Tags, shared with the encoder (typedstream-encode.ts).
export const TAG_INT16 = 0x81;
export const TAG_INT32 = 0x82;
const TAG_FLOAT = 0x83;
export const TAG_NEW = 0x84;
export const TAG_NIL = 0x85;
export const TAG_END = 0x86;
/** Byte values 0x80..0x91 are tags; 0x92 (-110 as a signed byte) is reference number 0. */
export const FIRST_REFERENCE = -110;
/** Depth cap for type encodings and class chains (the object depth cap comes from DecodeLimits). */
const MAX_DEPTH = DEFAULT_DECODE_LIMITS.maxDepth;

const utf8 = new TextDecoder("utf-8", { fatal: true });

type TypeNode = string | { count: number; element: TypeNode } | { fields: TypeNode[] };

interface ClassInfo {
  readonly isClass: true;
  name: string;
  version: number;
  superclass: ClassInfo | null;
  kind?: Kind;
}

type Kind = "string" | "attributed" | "dictionary" | "array" | "number" | "data" | "url" | "date" | "other";

const KIND_BY_CLASS: ReadonlyMap<string, Kind> = new Map<string, Kind>([
  ["NSString", "string"],
  ["NSAttributedString", "attributed"],
  ["NSDictionary", "dictionary"],
  ["NSArray", "array"],
  ["NSSet", "array"],
  ["NSValue", "number"],
  ["NSData", "data"],
  ["NSURL", "url"],
  ["NSDate", "date"],
]);

/** Marks an object slot whose contents are still being read (only reachable through a cyclic reference). */
const PENDING: unique symbol = Symbol("pending");
/** Stands, in an NSString's fields, for its text bytes still in the blob (see readObject). */
const TEXT_BYTES: unique symbol = Symbol("text bytes");

// Type encodings repeat across blobs ("@", "iI", "+", "i", "*", "q"), so their parse is memoised; the cap
// keeps hostile input from growing the cache without bound.
const typeCache = new Map<string, TypeNode[]>();
const TYPE_CACHE_LIMIT = 512;
/** Most groups hold one value of a one-character type ("@", "+", "i"): those are found by character code. */
const singleTypes: (TypeNode[] | undefined)[] = new Array(128).fill(undefined);

function fail(message: string): never {
  // Every decoder error is caught inside this module and reported by its message, so its stack is never
  // seen; not capturing one makes a damaged blob several times cheaper to reject.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const error = new TypedStreamError(message);
  Error.stackTraceLimit = stackTraceLimit;
  throw error;
}

function parseTypeEncoding(encoding: string): TypeNode[] {
  const single = encoding.length === 1 ? singleTypes[encoding.charCodeAt(0)] : undefined;
  if (single !== undefined) return single;
  const cached = typeCache.get(encoding);
  if (cached) return cached;
  const out: TypeNode[] = [];
  let i = 0;
  const parseOne = (depth: number): TypeNode => {
    if (depth > MAX_DEPTH) fail(`type encoding "${encoding}" is nested too deeply`);
    const ch = encoding[i];
    if (ch === undefined) fail(`type encoding "${encoding}" ends early`);
    i++;
    if (ch === "[") {
      let digits = "";
      while (i < encoding.length && encoding.charCodeAt(i) >= 48 && encoding.charCodeAt(i) <= 57)
        digits += encoding[i++];
      if (digits === "") fail(`array type in "${encoding}" has no length`);
      const element = parseOne(depth + 1);
      if (encoding[i] !== "]") fail(`array type in "${encoding}" is not closed`);
      i++;
      return { count: Number(digits), element };
    }
    if (ch === "{") {
      // Struct: {Name=types}; the name is irrelevant to the stream.
      while (i < encoding.length && encoding[i] !== "=" && encoding[i] !== "}") i++;
      if (encoding[i] === "=") i++;
      const fields: TypeNode[] = [];
      while (i < encoding.length && encoding[i] !== "}") fields.push(parseOne(depth + 1));
      if (encoding[i] !== "}") fail(`struct type in "${encoding}" is not closed`);
      i++;
      if (fields.length === 0) fail(`struct type in "${encoding}" has no fields`);
      return { fields };
    }
    if ("cCsSiIlLqQfdB*%:+@#".includes(ch)) return ch;
    return fail(`unsupported type encoding '${ch}' in "${encoding}"`);
  };
  while (i < encoding.length) out.push(parseOne(0));
  if (out.length === 0) fail("empty type encoding");
  if (encoding.length === 1) singleTypes[encoding.charCodeAt(0)] = out;
  else if (typeCache.size < TYPE_CACHE_LIMIT) typeCache.set(encoding, out);
  return out;
}

class TypedStreamReader {
  private pos = 0;
  private littleEndian = true;
  private readonly strings: string[] = [];
  private readonly objects: unknown[] = [];
  /** Caps total work so that zero-byte values (e.g. huge arrays of empty arrays) cannot hang the decoder. */
  private local: number;
  /**
   * What each finished container cost to read, so that every later reference to it is charged as a copy:
   * a consumer walking the result (rendering, JSON) sees shared references expanded, and nested sharing
   * would otherwise double the work per level while costing the blob two bytes.
   */
  private costs: Map<object, number> | undefined;
  private spent = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly limits: DecodeBudget,
  ) {
    this.local = buf.length * 4 + 1024;
  }

  private step(n = 1): void {
    this.local -= n;
    this.spent += n;
    if (this.local < 0) fail("typedstream has too many values");
    this.limits.spend(n);
  }

  private byte(): number {
    const b = this.buf[this.pos];
    if (b === undefined) fail(`unexpected end of data at offset ${this.pos} (${this.buf.length} bytes)`);
    this.pos++;
    return b;
  }

  private need(n: number, what: string): void {
    if (n > this.buf.length - this.pos) {
      fail(
        `${what} of ${n} bytes at offset ${this.pos} runs past the end of the data (${this.buf.length} bytes)`,
      );
    }
  }

  private intFromHead(head: number, signed: boolean): number {
    if (head < 0x80) return head;
    if (head >= 0x92) return signed ? head - 256 : head;
    const b = this.buf;
    if (head === TAG_INT16) {
      this.need(2, "16-bit integer");
      const p = this.pos;
      this.pos += 2;
      const v = this.littleEndian
        ? (b[p] as number) | ((b[p + 1] as number) << 8)
        : ((b[p] as number) << 8) | (b[p + 1] as number);
      return signed ? (v << 16) >> 16 : v;
    }
    if (head === TAG_INT32) {
      this.need(4, "32-bit integer");
      const p = this.pos;
      this.pos += 4;
      const v = this.littleEndian
        ? (b[p] as number) |
          ((b[p + 1] as number) << 8) |
          ((b[p + 2] as number) << 16) |
          ((b[p + 3] as number) << 24)
        : ((b[p] as number) << 24) |
          ((b[p + 1] as number) << 16) |
          ((b[p + 2] as number) << 8) |
          (b[p + 3] as number);
      return signed ? v | 0 : v >>> 0;
    }
    return fail(
      `unexpected tag 0x${head.toString(16)} at offset ${this.pos - 1} where an integer was expected`,
    );
  }

  private readInt(signed: boolean): number {
    return this.intFromHead(this.byte(), signed);
  }

  private readFloat(size: 4 | 8): number {
    const head = this.byte();
    if (head !== TAG_FLOAT) return this.intFromHead(head, true);
    this.need(size, "floating-point number");
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, size);
    this.pos += size;
    return size === 4 ? view.getFloat32(0, this.littleEndian) : view.getFloat64(0, this.littleEndian);
  }

  private referenceFromHead(head: number): number {
    return this.intFromHead(head, true) - FIRST_REFERENCE;
  }

  /**
   * Passes over length-prefixed bytes (type `+`, and the text inside shared strings): where they start, or
   * -1 for nil; they end at `pos`. Strings are decoded straight from the blob, without a view per string.
   */
  private skipUnsharedBytesFromHead(head: number): number {
    if (head === TAG_NIL) return -1;
    const length = this.intFromHead(head, false);
    this.need(length, "string");
    const start = this.pos;
    this.pos += length;
    return start;
  }

  /** Length-prefixed bytes as a view, not a copy. */
  private readUnsharedBytesFromHead(head: number): Uint8Array | null {
    const start = this.skipUnsharedBytesFromHead(head);
    return start < 0 ? null : this.buf.subarray(start, this.pos);
  }

  private readSharedStringFromHead(head: number): string | null {
    if (head === TAG_NIL) return null;
    if (head === TAG_NEW) {
      const start = this.skipUnsharedBytesFromHead(this.byte());
      if (start < 0) fail(`shared string at offset ${this.pos} is nil`);
      const s = sharedText(this.buf, start, this.pos);
      this.strings.push(s);
      return s;
    }
    const ref = this.referenceFromHead(head);
    const s = this.strings[ref];
    if (s === undefined)
      fail(`shared string reference ${ref} is out of range (${this.strings.length} known)`);
    return s;
  }

  readHeader(): void {
    const version = this.readInt(false);
    const signature = this.skipUnsharedBytesFromHead(this.byte());
    const sig = signature < 0 ? "" : sharedText(this.buf, signature, this.pos);
    if (sig === "streamtyped") this.littleEndian = true;
    else if (sig === "typedstream") this.littleEndian = false;
    else fail(`not a typedstream (signature "${sig.slice(0, 20)}")`);
    if (version !== 3 && version !== 4) fail(`unsupported typedstream version ${version}`);
    this.readInt(true); // system version (1000 on current macOS), irrelevant to decoding
  }

  /** C strings are shared strings wrapped in an object-table entry, so later uses are object references. */
  private readCString(): string | null {
    const head = this.byte();
    if (head === TAG_NIL) return null;
    if (head === TAG_NEW) {
      const s = this.readSharedStringFromHead(this.byte());
      this.objects.push(s);
      return s;
    }
    const ref = this.referenceFromHead(head);
    const target = this.objects[ref];
    if (typeof target !== "string") fail(`C string reference ${ref} does not point to a C string`);
    return target;
  }

  private readClass(): ClassInfo | null {
    let head = this.byte();
    let first: ClassInfo | null = null;
    let last: ClassInfo | null = null;
    // A class chain is written subclass first; each new class takes an object slot as it is read.
    while (head === TAG_NEW) {
      const name = this.readSharedStringFromHead(this.byte());
      if (name === null) fail(`class name at offset ${this.pos} is nil`);
      const cls: ClassInfo = { isClass: true, name, version: this.readInt(true), superclass: null };
      this.objects.push(cls);
      if (last) last.superclass = cls;
      else first = cls;
      last = cls;
      this.step();
      head = this.byte();
    }
    let tail: ClassInfo | null = null;
    if (head !== TAG_NIL) {
      const ref = this.referenceFromHead(head);
      const target = this.objects[ref];
      if (!isClassInfo(target)) fail(`class reference ${ref} does not point to a class`);
      tail = target;
    }
    if (last) {
      last.superclass = tail;
      return first;
    }
    return tail;
  }

  /** Reads the type encoding of the next group. */
  private readGroupTypes(head: number): TypeNode[] {
    const encoding = this.readSharedStringFromHead(head);
    if (encoding === null) fail(`type encoding at offset ${this.pos} is nil`);
    return parseTypeEncoding(encoding);
  }

  /** The root group: the type encoding "@" and one object. */
  readRoot(textOnly: boolean): unknown {
    if (this.pos >= this.buf.length) fail("typedstream has no content");
    const types = this.readGroupTypes(this.byte());
    if (types.length !== 1 || types[0] !== "@") fail("typedstream root is not an object");
    return this.readObject(0, textOnly);
  }

  private readObject(depth: number, textOnly = false): unknown {
    const head = this.byte();
    if (head === TAG_NIL) return null;
    if (head !== TAG_NEW) {
      const ref = this.referenceFromHead(head);
      if (ref < 0 || ref >= this.objects.length)
        fail(`object reference ${ref} is out of range (${this.objects.length} known)`);
      const target = this.objects[ref];
      if (isClassInfo(target)) fail(`object reference ${ref} points to a class`);
      if (target !== null && typeof target === "object") this.step(this.costs?.get(target) ?? 1);
      return target === PENDING ? null : target;
    }
    if (depth > this.limits.limits.maxDepth)
      fail(`objects are nested more than ${this.limits.limits.maxDepth} deep`);
    const spentBefore = this.spent;
    const slot = this.objects.length;
    this.objects.push(PENDING);
    const cls = this.readClass();
    if (cls === null) fail(`object at offset ${this.pos} has no class`);
    const kind = kindOf(cls);
    const fields: unknown[] = [];
    // Where an NSString's UTF-8 bytes lie: decoded straight from the blob once the object is read.
    let textStart = -1;
    let textEnd = -1;
    for (;;) {
      const h = this.byte();
      if (h === TAG_END) break;
      for (const type of this.readGroupTypes(h)) {
        if (kind === "string" && type === "+" && fields.length === 0) {
          this.step();
          textStart = this.skipUnsharedBytesFromHead(this.byte());
          textEnd = this.pos;
          fields.push(textStart < 0 ? null : TEXT_BYTES);
        } else fields.push(this.readValue(type, depth + 1));
        // The text is the first value of an attributed string; the fast path needs nothing after it.
        if (textOnly && kind === "string") return this.stringOf(cls, fields[0], textStart, textEnd);
        if (textOnly && kind === "attributed") return materialize(cls, kind, fields, true);
      }
    }
    const value =
      kind === "string"
        ? this.stringOf(cls, fields[0], textStart, textEnd)
        : materialize(cls, kind, fields, false);
    if (value !== null && typeof value === "object") {
      // Made on first use: a text-only decode finishes no container, so it never needs one.
      this.costs ??= new Map();
      this.costs.set(value, this.spent - spentBefore);
    }
    this.objects[slot] = value;
    return value;
  }

  /** An NSString's text: its first value, bytes in the blob or (never written by Apple) a byte array. */
  private stringOf(cls: ClassInfo, first: unknown, start: number, end: number): string {
    if (first === TEXT_BYTES) return decodeUtf8(this.buf, start, end);
    if (first === undefined || first === null) return "";
    if (!(first instanceof Uint8Array)) fail(`${cls.name} is not stored as UTF-8 bytes`);
    return decodeUtf8(first, 0, first.length);
  }

  private readValue(type: TypeNode, depth: number): unknown {
    this.step();
    if (typeof type === "string") {
      switch (type) {
        case "c": {
          const b = this.byte();
          return b >= 0x80 ? b - 256 : b;
        }
        case "C":
        case "B":
          return this.byte(); // chars are stored literally, without integer tags
        case "s":
        case "i":
        case "l":
        case "q":
          return this.readInt(true);
        case "S":
        case "I":
        case "L":
        case "Q":
          return this.readInt(false);
        case "f":
          return this.readFloat(4);
        case "d":
          return this.readFloat(8);
        case "*":
          return this.readCString();
        case "%":
        case ":":
          return this.readSharedStringFromHead(this.byte());
        case "+":
          return this.readUnsharedBytesFromHead(this.byte());
        case "@":
          return this.readObject(depth);
        case "#": {
          const cls = this.readClass();
          return cls ? cls.name : null;
        }
        default:
          return fail(`unsupported type encoding '${type}'`);
      }
    }
    if ("count" in type) {
      if (type.element === "c" || type.element === "C") {
        this.need(type.count, "byte array");
        const start = this.pos;
        this.pos += type.count;
        return this.buf.subarray(start, start + type.count);
      }
      if (type.count > this.buf.length - this.pos)
        fail(`array of ${type.count} values is longer than the data`);
      const items: unknown[] = [];
      for (let k = 0; k < type.count; k++) items.push(this.readValue(type.element, depth + 1));
      return items;
    }
    return type.fields.map((field) => this.readValue(field, depth + 1));
  }
}

function isClassInfo(v: unknown): v is ClassInfo {
  return typeof v === "object" && v !== null && (v as { isClass?: unknown }).isClass === true;
}

function kindOf(cls: ClassInfo): Kind {
  if (cls.kind) return cls.kind;
  let kind: Kind = "other";
  for (let c: ClassInfo | null = cls, n = 0; c && n < MAX_DEPTH; c = c.superclass, n++) {
    const k = KIND_BY_CLASS.get(c.name);
    if (k) {
      kind = k;
      break;
    }
  }
  cls.kind = kind;
  return kind;
}

// Node's own UTF-8 slicer (what `buffer.toString("utf8", start, end)` calls) builds a short string several
// times faster than TextDecoder and needs no view of the bytes. It is not documented, so it is used only if
// it reads a plain Uint8Array view as expected here; otherwise (or outside Node) TextDecoder serves.
type Utf8Slice = (this: Uint8Array, start: number, end: number) => string;
const utf8Slice = ((): Utf8Slice | undefined => {
  const slice = (globalThis.Buffer?.prototype as { utf8Slice?: unknown } | undefined)?.utf8Slice;
  if (typeof slice !== "function") return undefined;
  try {
    const probe = new Uint8Array([0x78, 0x68, 0xc3, 0xa9, 0xff]).subarray(1);
    return slice.call(probe, 0, 3) === "h\u00e9" && slice.call(probe, 3, 4) === "\ufffd"
      ? (slice as Utf8Slice)
      : undefined;
  } catch {
    return undefined;
  }
})();

/** `bytes[start, end)` as UTF-8, strictly: malformed bytes are an error, a leading BOM is dropped. */
function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  if (utf8Slice !== undefined && end > start) {
    const s = utf8Slice.call(bytes, start, end);
    // Node's slicer replaces malformed sequences with U+FFFD and keeps a BOM; only text with neither is
    // certainly what the strict decoder returns. Anything else (rare: a real U+FFFD) takes the strict route.
    if (s.charCodeAt(0) !== 0xfeff && s.indexOf("\ufffd") === -1) return s;
  }
  try {
    return utf8.decode(bytes.subarray(start, end));
  } catch {
    return fail("string is not valid UTF-8");
  }
}

// Shared strings (class names, type encodings) are the same few in every blob. Keeping each one's bytes
// and decoded string lets the next blob get the same, already hashed, string back by comparing bytes: no
// decoding, and the lookups by class name and type encoding that follow hit the string's cached hash.
// Direct-mapped and capped in length, so hostile input can only evict entries, never grow the table.
const INTERN_BITS = 8;
const INTERN_SLOTS = 1 << INTERN_BITS;
const INTERN_MAX_BYTES = 48;
const internedBytes: (Uint8Array | undefined)[] = new Array(INTERN_SLOTS).fill(undefined);
const internedText: string[] = new Array(INTERN_SLOTS).fill("");

function sharedText(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length > INTERN_MAX_BYTES) return decodeUtf8(bytes, start, end);
  if (length === 0) return "";
  // Length and three bytes tell the few names apart; a collision only costs a decode, the bytes decide.
  const mix =
    length ^
    ((bytes[start] as number) << 8) ^
    ((bytes[start + (length >> 1)] as number) << 16) ^
    ((bytes[end - 1] as number) << 24);
  const slot = Math.imul(mix, 0x9e3779b1) >>> (32 - INTERN_BITS);
  const known = internedBytes[slot];
  if (known !== undefined && known.length === length) {
    let k = 0;
    while (k < length && known[k] === bytes[start + k]) k++;
    if (k === length) return internedText[slot] as string;
  }
  const text = decodeUtf8(bytes, start, end);
  const copy = new Uint8Array(length);
  for (let k = 0; k < length; k++) copy[k] = bytes[start + k] as number;
  internedBytes[slot] = copy;
  internedText[slot] = text;
  return text;
}

/** The JS value of a finished object (NSString's text is decoded by the reader, see stringOf). */
function materialize(
  cls: ClassInfo,
  kind: Exclude<Kind, "string">,
  fields: unknown[],
  partial: boolean,
): unknown {
  switch (kind) {
    case "attributed":
      return attributedFromFields(cls.name, fields, partial);
    case "dictionary": {
      const count = fields[0];
      if (typeof count !== "number" || fields.length < 1 + 2 * count) fail(`${cls.name} is truncated`);
      const out: Record<string, unknown> = {};
      for (let k = 0; k < count; k++) {
        const key = fields[1 + 2 * k];
        setOwn(out, typeof key === "string" ? key : String(key), fields[2 + 2 * k]);
      }
      return out;
    }
    case "array": {
      const count = fields[0];
      if (typeof count !== "number" || fields.length < 1 + count) fail(`${cls.name} is truncated`);
      return fields.slice(1, 1 + count);
    }
    case "number":
      // NSNumber/NSValue: the Objective-C type as a C string, then the value itself.
      return fields.length === 2 ? fields[1] : fields.slice(1);
    case "data": {
      const bytes = fields[1];
      // Copied: the blob may be a Buffer view that the caller reuses, and NSData values outlive it.
      return bytes instanceof Uint8Array ? new Uint8Array(bytes) : new Uint8Array(0);
    }
    case "url": {
      // NSURL: a "has base" flag, then the base URL (if flagged) and the relative string.
      const strings = fields.filter((f): f is string => typeof f === "string");
      const relative = strings[strings.length - 1] ?? null;
      const base = strings.length > 1 ? strings[0] : undefined;
      if (relative !== null && base !== undefined) {
        try {
          return new URL(relative, base).href;
        } catch {
          return relative;
        }
      }
      return relative;
    }
    case "date": {
      const seconds = fields[0];
      return typeof seconds === "number" ? new Date(Date.UTC(2001, 0, 1) + seconds * 1000) : null;
    }
    default:
      return { $class: cls.name, values: fields } satisfies ArchivedObject;
  }
}

interface DecodedAttributed {
  text: string;
  runs: AttributeRun[];
}

/** NSAttributedString fields: the string, then per run (attributes index 1-based, length), a new index followed by its dictionary. */
function attributedFromFields(className: string, fields: unknown[], textOnly: boolean): DecodedAttributed {
  const text = fields[0] ?? "";
  if (typeof text !== "string") fail(`${className} does not start with a string`);
  const runs: AttributeRun[] = [];
  if (textOnly) return { text, runs };
  const dictionaries: Record<string, unknown>[] = [];
  let start = 0;
  let i = 1;
  while (i < fields.length) {
    const index = fields[i];
    const length = fields[i + 1];
    if (typeof index !== "number" || typeof length !== "number")
      fail(`${className} has a malformed attribute run`);
    i += 2;
    if (index === dictionaries.length + 1) {
      const dict = fields[i++];
      dictionaries.push(
        dict !== null && typeof dict === "object" && !Array.isArray(dict)
          ? (dict as Record<string, unknown>)
          : {},
      );
    }
    const attributes = dictionaries[index - 1];
    if (attributes === undefined)
      fail(`${className} refers to attribute set ${index}, which was never defined`);
    runs.push({ start, length, attributes });
    start += length;
  }
  return { text, runs };
}

// Nearly every body Messages writes begins with one of two byte sequences, up to the length of its text:
// the header, the root group "@", an NS(Mutable)AttributedString whose first value is an NS(Mutable)String
// of type "+". Those bytes leave the reader no choice, so for them the text can be read straight away; any
// other blob, and any surprise after the prefix, goes to the reader (test/messages/typedstream-fast-path).
type ClassChain = readonly (readonly [name: string, version: number])[];

function commonShape(attributed: ClassChain, string: ClassChain): Uint8Array {
  const bytes: number[] = [];
  const text = (s: string) => bytes.push(s.length, ...Array.from(s, (c) => c.charCodeAt(0)));
  const classes = (chain: ClassChain) => {
    for (const [name, version] of chain) {
      bytes.push(TAG_NEW, TAG_NEW);
      text(name);
      bytes.push(version);
    }
  };
  bytes.push(4); // streamer version
  text("streamtyped");
  bytes.push(TAG_INT16, 0xe8, 0x03); // system version 1000
  bytes.push(TAG_NEW);
  text("@"); // the root group's type (shared string 0)
  bytes.push(TAG_NEW); // the attributed string (object 0), its classes (objects 1…) down to NSObject
  classes(attributed);
  bytes.push(TAG_NIL);
  bytes.push(FIRST_REFERENCE & 0xff); // its first group: type "@" again
  bytes.push(TAG_NEW); // the string, whose classes end at the NSObject read above
  classes(string);
  bytes.push((attributed.length + FIRST_REFERENCE) & 0xff);
  bytes.push(TAG_NEW);
  text("+"); // its bytes: a length, the UTF-8, then the end of the string object
  return Uint8Array.from(bytes);
}

const COMMON_SHAPES: readonly Uint8Array[] = [
  commonShape(
    [
      ["NSMutableAttributedString", 0],
      ["NSAttributedString", 0],
      ["NSObject", 0],
    ],
    [
      ["NSMutableString", 1],
      ["NSString", 1],
    ],
  ),
  commonShape(
    [
      ["NSAttributedString", 0],
      ["NSObject", 0],
    ],
    [["NSString", 1]],
  ),
];

function startsWith(blob: Uint8Array, prefix: Uint8Array): boolean {
  if (blob.length <= prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (blob[i] !== prefix[i]) return false;
  return true;
}

/**
 * The text of a blob in one of the common shapes, exactly as the reader would decode it with default
 * bounds; undefined for any other blob (the reader then decides). Exported for the test that holds it to that.
 */
export function commonShapeText(blob: Uint8Array): string | undefined {
  if (!(blob instanceof Uint8Array) || blob.length > DEFAULT_DECODE_LIMITS.maxBytes) return undefined;
  let p = -1;
  for (const prefix of COMMON_SHAPES) {
    if (startsWith(blob, prefix)) {
      p = prefix.length;
      break;
    }
  }
  if (p < 0) return undefined;
  let length = blob[p++] as number;
  if (length === TAG_INT16 && p + 2 <= blob.length) {
    length = (blob[p] as number) | ((blob[p + 1] as number) << 8);
    p += 2;
  } else if (length >= 0x80) return undefined; // nil, 32-bit lengths, tags: the reader's business
  const end = p + length;
  if (end >= blob.length || blob[end] !== TAG_END) return undefined;
  try {
    return decodeUtf8(blob, p, end);
  } catch {
    return undefined;
  }
}

/** Limits for one decode, or a budget shared with a larger decode (a plist holding several blobs). */
export type DecodeBounds = Partial<DecodeLimits> | DecodeBudget;

function decodeRoot(blob: Uint8Array, textOnly: boolean, bounds: DecodeBounds = {}): DecodedAttributed {
  if (!(blob instanceof Uint8Array)) fail("attributedBody is not binary data");
  const budget = bounds instanceof DecodeBudget ? bounds : new DecodeBudget(bounds);
  budget.checkSize(blob.length);
  const reader = new TypedStreamReader(blob, budget);
  reader.readHeader();
  const root = reader.readRoot(textOnly);
  if (typeof root === "string") return { text: root, runs: [] };
  if (root !== null && typeof root === "object" && "text" in root && "runs" in root)
    return root as DecodedAttributed;
  return fail("typedstream does not contain an attributed string");
}

/** Decodes an attributedBody blob into its text and attribute runs. Never throws. */
export function decodeAttributedBody(blob: Uint8Array, bounds?: DecodeBounds): AttributedBodyResult {
  try {
    const { text, runs } = decodeRoot(blob, false, bounds);
    return { ok: true, text, runs };
  } catch (err) {
    return { ok: false, error: errorMessage(err) };
  }
}

/** The text of an attributedBody blob, or null when absent or undecodable. Never throws; skips the runs. */
export function attributedBodyText(
  blob: Uint8Array | null | undefined,
  bounds?: DecodeBounds,
): string | null {
  if (blob === null || blob === undefined || blob.length === 0) return null;
  if (bounds === undefined) {
    const text = commonShapeText(blob);
    if (text !== undefined) return text;
  }
  try {
    return decodeRoot(blob, true, bounds).text;
  } catch {
    return null;
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof TypedStreamError) return `attributedBody: ${err.message}`;
  if (err instanceof DecodeLimitError) return `attributedBody: not decoded, ${err.message}`;
  return `attributedBody: could not be decoded (${err instanceof Error ? err.message : String(err)})`;
}
