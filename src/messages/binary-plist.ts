// Binary property lists from chat.db (message_summary_info), read with bplist-parser behind a shape check.
//
// Why the check: bplist-parser turns every reference into a fresh copy and follows references without
// looking back, so a plist whose arrays point twice at the next array doubles its work per level (an
// outside probe hung the server for 25 s with 147 bytes), and an array that contains itself recurses until
// the stack gives out. It has no option that bounds either. So before it runs, the object graph is
// measured here — header, trailer, offset table and each container's references — and refused unless its
// expanded size, depth and payload fit the DecodeLimits. The check walks each object once (memoised), so it
// costs time proportional to the blob, whatever the blob claims.
import { createRequire } from "node:module";
import type BplistCreator from "bplist-creator";
import { parseBuffer } from "bplist-parser";
import { DecodeBudget, DecodeLimitError, type DecodeLimits } from "./decode-limits.js";

let creator: typeof BplistCreator | undefined;
/**
 * bplist-creator (binary plists written: the demo's chat.db, tests), loaded on first use: the server only
 * reads plists, and loading it (with its stream library) is a measurable part of start-up.
 */
export function bplistCreator(): typeof BplistCreator {
  creator ??= createRequire(import.meta.url)("bplist-creator") as typeof BplistCreator;
  return creator;
}

const HEADER = "bplist00";
const TRAILER_BYTES = 32;

/** Malformed binary plist (not a bounds problem): the message says what is wrong. */
export class BinaryPlistError extends Error {
  override readonly name = "BinaryPlistError";
}

function fail(message: string): never {
  throw new BinaryPlistError(message);
}

/** Big-endian unsigned integer of `size` bytes (1..8) at `at`; beyond 2^53 it is not a usable offset. */
function readUInt(buffer: Buffer, at: number, size: number): number {
  if (size < 1 || size > 8 || at < 0 || at + size > buffer.length) fail("integer runs past the end");
  let value = 0;
  for (let i = 0; i < size; i++) value = value * 256 + (buffer[at + i] as number);
  if (!Number.isSafeInteger(value)) fail("integer too large");
  return value;
}

interface Shape {
  /** References to other objects (containers only). */
  children: number[];
  /** Bytes the object's own value occupies once decoded (strings, data). */
  payload: number;
}

/** Reads one object's marker: its container references or its payload size. */
function shapeAt(buffer: Buffer, offset: number, refSize: number, objectCount: number, end: number): Shape {
  if (offset < HEADER.length || offset >= end) fail(`object offset ${offset} is outside the object area`);
  const marker = buffer[offset] as number;
  const type = marker >> 4;
  const info = marker & 0x0f;
  // Counts above 14 are written as an integer object right after the marker.
  let count = info;
  let start = offset + 1;
  if (
    info === 0x0f &&
    (type === 0x4 || type === 0x5 || type === 0x6 || type === 0xa || type === 0xc || type === 0xd)
  ) {
    const intMarker = buffer[offset + 1];
    if (intMarker === undefined || intMarker >> 4 !== 0x1) fail("length of an object is not an integer");
    const size = 1 << (intMarker & 0x0f);
    count = readUInt(buffer, offset + 2, size);
    start = offset + 2 + size;
  }
  switch (type) {
    case 0x4: // data
    case 0x5: // ASCII string
    case 0x6: {
      // UTF-16 string
      const bytes = type === 0x6 ? count * 2 : count;
      if (start + bytes > end) fail("a string or data object runs past the object area");
      return { children: [], payload: bytes };
    }
    case 0xa: // array
    case 0xc: // set
    case 0xd: {
      // dictionary: keys then values
      const refs = type === 0xd ? count * 2 : count;
      if (start + refs * refSize > end) fail("a container's references run past the object area");
      const children: number[] = [];
      for (let i = 0; i < refs; i++) {
        const ref = readUInt(buffer, start + i * refSize, refSize);
        if (ref >= objectCount) fail(`reference ${ref} is out of range (${objectCount} objects)`);
        children.push(ref);
      }
      return { children, payload: 0 };
    }
    default:
      return { children: [], payload: 0 };
  }
}

/**
 * Throws unless bplist-parser can expand `buffer` within the limits: BinaryPlistError when it is malformed,
 * DecodeLimitError when it is too big, deep, self-containing or expansive. Exposed for the tests.
 */
export function checkBinaryPlistShape(buffer: Buffer, budget: DecodeBudget): void {
  budget.checkSize(buffer.length);
  if (buffer.length < HEADER.length + TRAILER_BYTES || buffer.toString("latin1", 0, 8) !== HEADER) {
    fail("not a binary plist (bplist00)");
  }
  const trailer = buffer.length - TRAILER_BYTES;
  const offsetSize = buffer[trailer + 6] as number;
  const refSize = buffer[trailer + 7] as number;
  const objectCount = readUInt(buffer, trailer + 8, 8);
  const top = readUInt(buffer, trailer + 16, 8);
  const tableAt = readUInt(buffer, trailer + 24, 8);
  if (offsetSize < 1 || offsetSize > 8 || refSize < 1 || refSize > 8) fail("bad offset or reference size");
  if (objectCount === 0 || top >= objectCount) fail("top object is out of range");
  // Every object takes at least one byte of the object area and one offset-table entry.
  if (tableAt < HEADER.length || tableAt > trailer || objectCount > (trailer - tableAt) / offsetSize) {
    fail("offset table does not fit the file");
  }
  const offsets: number[] = [];
  for (let i = 0; i < objectCount; i++) offsets.push(readUInt(buffer, tableAt + i * offsetSize, offsetSize));

  const shapes = new Map<number, Shape>();
  /** Expanded size (values + payload bytes) and height of each finished object. */
  const done = new Map<number, { values: number; height: number }>();
  const inProgress = new Set<number>();
  const maxPayload = budget.limits.maxBytes;
  let payloadTotal = 0;

  const measure = (index: number, depth: number): { values: number; height: number } => {
    budget.checkDepth(depth);
    const known = done.get(index);
    if (known) {
      budget.checkDepth(depth + known.height);
      budget.spend(known.values);
      return known;
    }
    if (inProgress.has(index)) throw new DecodeLimitError("an object contains itself");
    inProgress.add(index);
    let shape = shapes.get(index);
    if (!shape) {
      shape = shapeAt(buffer, offsets[index] as number, refSize, objectCount, tableAt);
      shapes.set(index, shape);
    }
    budget.spend(1);
    let values = 1;
    let height = 0;
    for (const child of shape.children) {
      const sub = measure(child, depth + 1);
      values += sub.values;
      height = Math.max(height, sub.height + 1);
    }
    inProgress.delete(index);
    const result = { values, height };
    done.set(index, result);
    return result;
  };
  // Payload bytes count per expanded use too: one 1 MB string referenced a thousand times is a 1 GB result.
  const payloadOf = (index: number, seen: Map<number, number>): number => {
    const cached = seen.get(index);
    if (cached !== undefined) return cached;
    const shape = shapes.get(index) as Shape;
    let total = shape.payload;
    for (const child of shape.children) {
      total += payloadOf(child, seen);
      if (total > maxPayload) break;
    }
    seen.set(index, total);
    return total;
  };
  measure(top, 0);
  payloadTotal = payloadOf(top, new Map());
  if (payloadTotal > maxPayload) {
    throw new DecodeLimitError(`it expands to more than ${maxPayload} bytes of strings and data`);
  }
}

/** bplist-parser reports odd objects with console.error; garbage rows must not flood the server's stderr. */
function quietParse(buffer: Buffer): unknown {
  const original = console.error;
  console.error = () => {};
  try {
    return parseBuffer(buffer)[0];
  } finally {
    console.error = original;
  }
}

/**
 * The top object of a binary plist, within the limits (or a shared budget). Throws BinaryPlistError,
 * DecodeLimitError or bplist-parser's own error for input it cannot read.
 */
export function parseBinaryPlist(buffer: Buffer, bounds: Partial<DecodeLimits> | DecodeBudget = {}): unknown {
  const budget = bounds instanceof DecodeBudget ? bounds : new DecodeBudget(bounds);
  checkBinaryPlistShape(buffer, budget);
  return quietParse(buffer);
}
