// Messages in date order — newest first by `message.date`, ties by ROWID — for rows dated in nanoseconds
// (macOS 10.13 and later) and in seconds (older Macs, imported histories) alike, read through Apple's own
// indexes so that a page costs O(page) however long the conversation is.
//
// Why "ranges": chat.db keeps a date either as seconds or as nanoseconds since 2001 (see apple-time.ts). Within
// one encoding the stored number sorts like time, so each encoding is read as its own index range, and the
// ranges are merged by the instant they denote (`dateKey`). Ordering by a computed instant instead would make
// SQLite sort every row of the conversation (`USE TEMP B-TREE FOR ORDER BY`).
import { APPLE_EPOCH_MS } from "./apple-time.js";

/** Stored dates with a magnitude below this are seconds, at or above it nanoseconds (as in apple-time.ts). */
export const SECONDS_BOUND = 100_000_000_000n;
const NANOS_PER_SECOND = 1_000_000_000n;
const NANOS_PER_MS = 1_000_000n;
const INT64_MAX = 9_223_372_036_854_775_807n;
const INT64_MIN = -9_223_372_036_854_775_808n;

/** A time window over instants: `since` inclusive, `until` exclusive (either may be left out). */
export interface TimeWindow {
  since?: Date | undefined;
  until?: Date | undefined;
}

/**
 * One stored-value range of `message.date` (inclusive bounds; null = unbounded) in one encoding.
 * `scale` turns a stored value into nanoseconds (1 for nanoseconds, 1e9 for seconds).
 */
export interface DateRange {
  low: bigint | null;
  high: bigint | null;
  scale: bigint;
}

/** Where a message sits in date order: its instant (nanoseconds since 2001) and ROWID. */
export interface Position {
  key: bigint;
  rowid: number;
}

/**
 * The instant a stored `message.date` denotes, in nanoseconds since 2001: the key messages are ordered by.
 * Accepts what SQLite returns (integer as bigint/number/decimal text, REAL as number or text). null for NULL,
 * for values that are not numbers and for values beyond SQLite's 64-bit integers (1e300): such rows have no
 * usable date, so date-ordered reads and windows leave them out (consistently: see `dateRanges`), and they
 * never reach arithmetic that would throw.
 */
export function dateKey(raw: unknown): bigint | null {
  let value: bigint;
  if (typeof raw === "bigint") value = raw;
  else if (typeof raw === "string" && /^-?\d{1,19}$/.test(raw)) value = BigInt(raw);
  else {
    const n = typeof raw === "number" ? raw : typeof raw === "string" ? Number(raw) : Number.NaN;
    if (!Number.isFinite(n)) return null;
    if (Math.abs(n) < Number(SECONDS_BOUND)) return BigInt(Math.round(n * 1e9));
    if (Math.abs(n) >= 9.2e18) return null;
    value = BigInt(Math.round(n));
  }
  if (value > INT64_MAX || value < INT64_MIN) return null;
  return value > -SECONDS_BOUND && value < SECONDS_BOUND ? value * NANOS_PER_SECOND : value;
}

/** An instant as a date key (nanoseconds since 2001). */
export function instantKey(date: Date): bigint {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new RangeError("expected a valid Date");
  return BigInt(ms - APPLE_EPOCH_MS) * NANOS_PER_MS;
}

/** The same key clamped to what an SQLite INTEGER holds (for columns that store keys, e.g. the search index). */
export function clampToInt64(key: bigint): bigint {
  return key > INT64_MAX ? INT64_MAX : key < INT64_MIN ? INT64_MIN : key;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return -floorDiv(-a, b);
}

function maxOf(a: bigint | null, b: bigint | null): bigint | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}

function minOf(a: bigint | null, b: bigint | null): bigint | null {
  if (a === null) return b;
  if (b === null) return a;
  return a < b ? a : b;
}

/**
 * The stored-value ranges of `message.date` that fall inside a window, one per encoding, newest first:
 * nanoseconds after 2001 (+100 s), seconds, nanoseconds before 2001. Empty ranges are left out.
 */
export function dateRanges(window: TimeWindow): DateRange[] {
  const low = window.since ? instantKey(window.since) : null;
  const high = window.until ? instantKey(window.until) - 1n : null; // inclusive
  // Always bounded, so REAL and TEXT values outside the integers (which SQLite sorts above them) stay out.
  const ranges: DateRange[] = [
    { low: maxOf(low, SECONDS_BOUND), high: minOf(high, INT64_MAX), scale: 1n },
    {
      low: maxOf(low === null ? null : ceilDiv(low, NANOS_PER_SECOND), -SECONDS_BOUND + 1n),
      high: minOf(high === null ? null : floorDiv(high, NANOS_PER_SECOND), SECONDS_BOUND - 1n),
      scale: NANOS_PER_SECOND,
    },
    { low: maxOf(low, INT64_MIN), high: minOf(high, -SECONDS_BOUND), scale: 1n },
  ];
  // Bounds are bound to SQLite, whose integers are 64-bit.
  return ranges
    .map((r) => ({
      ...r,
      low: r.low === null ? null : clampToInt64(r.low),
      high: r.high === null ? null : clampToInt64(r.high),
    }))
    .filter((r) => r.low === null || r.high === null || r.low <= r.high);
}

/**
 * A range narrowed to the rows strictly after `position` in the given direction ("desc": older than it,
 * "asc": newer), plus the ROWID tie-break for rows that share the position's stored date. null when nothing
 * of the range is left.
 */
export function rangeBeyond(
  range: DateRange,
  position: Position,
  direction: "asc" | "desc",
): { range: DateRange; tie: { date: bigint; rowid: number } | null } | null {
  const exact = position.key % range.scale === 0n;
  let narrowed: DateRange;
  let tie: { date: bigint; rowid: number } | null = null;
  if (direction === "desc") {
    const bound = floorDiv(position.key, range.scale);
    narrowed = { ...range, high: minOf(range.high, bound) };
    if (exact && (range.high === null || bound <= range.high)) tie = { date: bound, rowid: position.rowid };
  } else {
    const bound = ceilDiv(position.key, range.scale);
    narrowed = { ...range, low: maxOf(range.low, bound) };
    if (exact && (range.low === null || bound >= range.low)) tie = { date: bound, rowid: position.rowid };
  }
  if (narrowed.low !== null && narrowed.high !== null && narrowed.low > narrowed.high) return null;
  if (tie && (tie.date !== clampToInt64(tie.date) || !Number.isSafeInteger(tie.rowid))) return null;
  return {
    range: {
      ...narrowed,
      low: narrowed.low === null ? null : clampToInt64(narrowed.low),
      high: narrowed.high === null ? null : clampToInt64(narrowed.high),
    },
    tie,
  };
}

/** Positions travel as `key:rowid` text: exact (keys exceed 2^53) and opaque to callers. */
export function encodePosition(position: Position): string {
  return `${position.key}:${position.rowid}`;
}

/** Reads `encodePosition`'s text; null for anything else. */
export function decodePosition(text: string): Position | null {
  const match = /^(-?\d{1,30}):(\d{1,16})$/.exec(text);
  if (!match) return null;
  const rowid = Number(match[2]);
  if (!Number.isSafeInteger(rowid)) return null;
  return { key: BigInt(match[1] ?? "0"), rowid };
}

/** Compares positions in ascending order (older first; same instant: lower ROWID first). */
export function comparePositions(a: Position, b: Position): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.rowid - b.rowid;
}

/**
 * Rows of several sources, each already in date order (one index range each), merged into one date order.
 * `fetch(source, n, after)` returns up to n rows of that source strictly beyond `after` (or from the start).
 * Rows are fetched in batches (first `firstBatch`, then growing), so reading the first k rows costs O(k)
 * per source whatever the sources' sizes; within `take(n)` no batch asks for more rows than the take still
 * needs, since a source that has them all would otherwise be read past what is returned. A row met twice
 * (a message in two chats) is returned once.
 */
export class MergedDateOrder<S, R extends { position: Position }> {
  private readonly heads: { source: S; buffer: R[]; next: number; done: boolean; batch: number }[];
  private readonly seen = new Set<number>();

  constructor(
    sources: S[],
    private readonly direction: "asc" | "desc",
    private readonly fetch: (source: S, n: number, after: Position | null) => R[],
    firstBatch: number,
    private readonly maxBatch = 2000,
  ) {
    this.heads = sources.map((source) => ({
      source,
      buffer: [],
      next: 0,
      done: false,
      batch: Math.max(1, firstBatch),
    }));
  }

  private fill(head: MergedDateOrder<S, R>["heads"][number], need: number): void {
    if (head.next < head.buffer.length || head.done) return;
    const after = head.buffer.at(-1)?.position ?? null;
    const asked = Math.max(1, Math.min(head.batch, need));
    head.buffer = this.fetch(head.source, asked, after);
    head.next = 0;
    if (head.buffer.length < asked) head.done = true;
    head.batch = Math.min(this.maxBatch, head.batch * 4);
  }

  /** The next row in date order, or undefined when every source is exhausted. `need`: rows still wanted. */
  next(need = Number.POSITIVE_INFINITY): R | undefined {
    for (;;) {
      let best: MergedDateOrder<S, R>["heads"][number] | null = null;
      for (const head of this.heads) {
        this.fill(head, need);
        const row = head.buffer[head.next];
        if (row === undefined) continue;
        const current = best?.buffer[best.next];
        if (!current) {
          best = head;
          continue;
        }
        const order = comparePositions(row.position, current.position);
        if (this.direction === "desc" ? order > 0 : order < 0) best = head;
      }
      if (!best) return undefined;
      const row = best.buffer[best.next++] as R;
      if (this.seen.has(row.position.rowid)) continue;
      this.seen.add(row.position.rowid);
      return row;
    }
  }

  /** Up to n rows. */
  take(n: number): R[] {
    const rows: R[] = [];
    while (rows.length < n) {
      const row = this.next(n - rows.length);
      if (row === undefined) break;
      rows.push(row);
    }
    return rows;
  }
}
