// A side search index for chat.db: decoded, normalised message text in its own SQLite file with an FTS5
// trigram index, so search never decodes a million typedstream blobs per query. chat.db is only read (its
// own read-only connection); the index lives in the state directory and is rebuilt from chat.db at will.
//
// Exactness: the index stores exactly what the linear scan compares (`normalizeForSearch` of `text`, else
// of the decoded `attributedBody`), and every candidate the index yields is verified with the scan's own
// `createTextMatcher`. FTS only narrows the candidates; it never decides a match. Filters are the store's own
// (`messageFilterClauses`) over columns copied from chat.db, so answers (rowids and order) equal the scan's.
//
// Freshness: the build walks chat.db by ROWID watermark in batches, each batch one transaction that also
// commits the watermark (so a killed build resumes). `sync()` indexes rows above the watermark and re-reads
// rows whose `date_edited`/`date_retracted` moved past the last edit mark (edits keep their ROWID; an unsent
// message loses its text). A replaced chat.db (ROWID sequence went backwards, or a remembered ROWID now has
// another guid) resets the index.
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, renameSync } from "node:fs";
import { join } from "node:path";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import BetterSqlite3, { type Database, type Statement } from "better-sqlite3";
import { dateToAppleNanosBigInt } from "./apple-time.js";
import { clampToInt64, dateKey, decodePosition, instantKey } from "./date-order.js";
import { columnOrNull, hasColumn, type SchemaInfo } from "./schema.js";
import {
  chunks,
  type FilterColumns,
  messageFilterClauses,
  openChatDbReadOnly,
  placeholders,
  statementCache,
} from "./sql.js";
import { isTapbackType } from "./tapbacks.js";
import {
  allowedEdits,
  boundedEditDistance,
  createTextMatcher,
  searchableText,
  searchWords,
} from "./text-match.js";
import type { SearchQuery } from "./types.js";

/** Bump when the index layout or what it stores changes: older files are then rebuilt. */
const INDEX_FORMAT = 5;
const DEFAULT_BATCH = 5000;
/**
 * A batch is read from chat.db and written in chunks of this many rows: a chunk's rows die young (V8
 * collects them cheaply instead of promoting a whole batch to the old generation), while the transaction
 * stays a whole batch (fewer commits and FTS5 segments).
 */
const READ_CHUNK = 1000;
/**
 * SQLite page cache of an index connection (the server and the build's worker each hold one; their chat.db
 * connections keep sql.ts's CHAT_DB_CACHE_KIB). The files stay in the OS page cache anyway. With SQLite's
 * default 16 MB each (and the worker's default young generation) a 1M-message server peaked at 271 MB while
 * building, with these at 226 MB, building no slower and searching no slower after (docs/performance.md).
 */
const INDEX_CACHE_KIB = 4096;
/** Edits made on another device may carry a slightly earlier clock; re-read a margin behind the mark. */
const EDIT_MARGIN_NANOS = 10n * 60n * 1_000_000_000n;
/** How long after sending a message can still change: Messages allows 15 minutes; a day leaves room for clocks. */
const EDIT_WINDOW_NANOS = 24n * 3600n * 1_000_000_000n;
const DAY_NANOS = 24n * 3600n * 1_000_000_000n;
/** How often the full edit sweep runs (in the index worker). */
const SWEEP_INTERVAL_MS = 24 * 3600 * 1000;
/** FTS5's trigram tokenizer needs three characters to use the index. */
const TRIGRAM = 3;
/**
 * At most this many of a needle's trigrams go into its FTS query: any subset finds every match (candidates
 * are verified), and each trigram is one more list to read (a 1,000-character needle's took 27 ms).
 */
const MAX_QUERY_TRIGRAMS = 24;
/** The index's columns for the store's message filters (tapbacks are never indexed). */
const DOC_FILTER_COLUMNS: FilterColumns = {
  date: "d.date",
  dateEncoding: "key",
  rowid: "d.rowid",
  handle: "d.handle_id",
  inChats: (list) => `EXISTS (SELECT 1 FROM doc_chat c WHERE c.rowid = d.rowid AND c.chat_id IN (${list}))`,
};

export type IndexProgress = (done: number, total: number) => void;

export interface SearchIndexOptions {
  /** Directory for the index file (created 0700). Usually `resolveStateDir()`. */
  stateDir: string;
  /** Messages per transaction while building (default 5000). */
  batchSize?: number;
}

export interface BuildOptions {
  onProgress?: IndexProgress;
  /** Stop (resumably) after this many batches; for tests and time-boxed work. */
  maxBatches?: number;
  signal?: AbortSignal;
}

export interface BuildResult {
  /** Messages read from chat.db by this call. */
  scanned: number;
  /** True when the index now covers all of chat.db and answers searches. */
  ready: boolean;
}

export interface SyncResult {
  added: number;
  /** Rows re-read because they were edited or unsent. */
  rechecked: number;
  /** chat.db was replaced by another database; the index was emptied and must be rebuilt. */
  reset: boolean;
}

/** What the index needs of the opened chat.db: its path and detected schema (a `MessagesStore` fits). */
export interface ChatDbSource {
  readonly path: string;
  readonly schema: SchemaInfo;
}

/** Raised when the index file is unreadable; the caller moves it aside and falls back to the scan. */
export class SearchIndexError extends Error {
  override readonly name = "SearchIndexError";
}

/** `[message_id, chat_id]` rows of chat_message_join (raw: cheaper than a named object per row). */
type ChatJoinRow = [number, number];

function addChats(chats: Map<number, number[]>, rows: ChatJoinRow[]): void {
  for (const [message, chat] of rows) {
    const list = chats.get(message);
    if (list) list.push(chat);
    else chats.set(message, [chat]);
  }
}

interface SourceRow {
  ROWID: number;
  text: string | null;
  attributedBody: Buffer | null;
  handle_id: number | null;
  date: bigint | null;
  associated_message_type: number | null;
  date_edited: bigint | null;
  date_retracted: bigint | null;
}

/** `<stateDir>/search-index-<sha256(chat.db path) prefix>.sqlite`: one index per chat.db. */
export function searchIndexPath(stateDir: string, chatDbPath: string): string {
  const digest = createHash("sha256").update(chatDbPath).digest("hex").slice(0, 16);
  return join(stateDir, `search-index-${digest}.sqlite`);
}

/** The text the scan would compare for this row, or null when it has none (or is a tapback). */
export function indexableText(
  row: Pick<SourceRow, "text" | "attributedBody" | "associated_message_type">,
): string | null {
  if (isTapbackType(row.associated_message_type)) return null;
  return searchableText(row.text, row.attributedBody);
}

/** An FTS5 string literal: quotes doubled, so no query syntax leaks through. */
function ftsString(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

/**
 * FTS5 expression for documents containing every trigram of `text` (at least three code points), a
 * superset of those containing `text`. The index keeps no positions (`detail = none`: a third of the size
 * and of the work to build), so it cannot match a phrase; the scan's matcher verifies each candidate.
 */
function trigramQuery(text: string): string {
  const chars = [...text];
  const count = chars.length - TRIGRAM + 1;
  const starts = new Set<number>();
  // Spread over the whole needle (first and last included) when there are more than the cap.
  const step = Math.max(1, (count - 1) / (MAX_QUERY_TRIGRAMS - 1));
  for (let i = 0; i < count; i += step) starts.add(Math.round(i));
  starts.add(count - 1);
  const trigrams = new Set([...starts].map((i) => chars.slice(i, i + TRIGRAM).join("")));
  return `(${[...trigrams].map(ftsString).join(" AND ")})`;
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Creates the file owner-only before SQLite does (SQLite would use the umask; -wal/-shm copy this mode). */
function createPrivateFile(path: string): void {
  if (existsSync(path)) return;
  closeSync(openSync(path, "a", 0o600));
}

/** Moves an unusable index aside (kept for inspection, never deleted) with its -wal/-shm companions. */
export function moveIndexAside(path: string): string {
  const target = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  for (const suffix of ["", "-wal", "-shm"]) {
    if (existsSync(path + suffix)) renameSync(path + suffix, target + suffix);
  }
  return target;
}

export class SearchIndex {
  /** Words seen in indexed text, by length: fuzzy search expands query words against it. */
  private vocabulary: Map<number, string[]> | null = null;
  private vocabularyVersion = -1;
  private readonly statement: (sql: string) => Statement;
  /** Prepared statements on chat.db (`source`): sync runs several per change of chat.db. */
  private readonly sourceQuery: (sql: string) => Statement;
  private lastDataVersion = -1;

  private constructor(
    readonly path: string,
    private readonly db: Database,
    private readonly source: Database,
    private readonly schema: SchemaInfo,
    private readonly batchSize: number,
  ) {
    this.statement = statementCache(db);
    this.sourceQuery = statementCache(source);
  }

  /**
   * Opens (creating if needed) the index for this chat.db. A file that is not a usable index is moved aside
   * and a fresh one created. Throws SearchIndexError only when the state directory itself is unusable.
   */
  static open(chatDb: ChatDbSource, options: SearchIndexOptions): SearchIndex {
    try {
      mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new SearchIndexError(`Cannot create ${options.stateDir} for the search index: ${String(error)}`);
    }
    const path = searchIndexPath(options.stateDir, chatDb.path);
    // Reads chat.db in ROWID order, each page once: its small page cache (CHAT_DB_CACHE_KIB) is all it needs.
    const source = openChatDbReadOnly(chatDb.path);
    try {
      let db: Database;
      try {
        db = openIndexFile(path, chatDb.path);
      } catch (error) {
        if (!isCorruption(error)) throw error;
        moveIndexAside(path);
        db = openIndexFile(path, chatDb.path);
      }
      return new SearchIndex(path, db, source, chatDb.schema, options.batchSize ?? DEFAULT_BATCH);
    } catch (error) {
      source.close();
      if (error instanceof SearchIndexError) throw error;
      throw new SearchIndexError(`Cannot open the search index ${path}: ${String(error)}`);
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
    if (this.source.open) this.source.close();
  }

  private meta(key: string): string | null {
    const row = this.statement("SELECT value FROM meta WHERE key = ?").get(key) as
      | { value: string }
      | undefined;
    return row?.value ?? null;
  }

  private setMeta(key: string, value: string | number | bigint): void {
    this.statement(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ).run(key, String(value));
  }

  /** Highest chat.db ROWID the index has read. */
  get watermark(): number {
    return Number(this.meta("watermark") ?? 0);
  }

  /** True once a build has covered chat.db: from then on the index answers searches. */
  get ready(): boolean {
    return this.meta("ready") === "1";
  }

  /** Indexed messages (with text). */
  documentCount(): number {
    return (this.statement("SELECT COUNT(*) AS n FROM doc").get() as { n: number }).n;
  }

  // ---- reading chat.db -----------------------------------------------------------------------

  private sourceStatement(where: string): Statement {
    const col = (c: string) => columnOrNull(this.schema, "message", "m", c);
    // Read in this order by sourceRows (raw arrays: named row objects built by the driver cost a quarter of
    // the build's CPU). The guid is read only for the anchors (see sourceReplaced).
    const sql = `SELECT m.ROWID, m.text, ${col("attributedBody")}, m.handle_id, m.date,
        ${col("associated_message_type")}, ${col("date_edited")}, ${col("date_retracted")}
      FROM message m WHERE ${where}`;
    // Dates are nanoseconds above 2^53: read them exactly, so since/until filters compare like the scan's.
    return this.sourceQuery(sql).safeIntegers(true).raw(true);
  }

  private sourceRows(stmt: Statement, ...params: unknown[]): SourceRow[] {
    return (stmt.all(...params) as unknown[][]).map((r) => ({
      ROWID: Number(r[0]),
      text: r[1] as string | null,
      attributedBody: r[2] as Buffer | null,
      handle_id: r[3] === null ? null : Number(r[3]),
      date: r[4] as bigint | null,
      associated_message_type: r[5] === null ? null : Number(r[5]),
      date_edited: r[6] as bigint | null,
      date_retracted: r[7] as bigint | null,
    }));
  }

  /** `ROWID:guid` of a chat.db message: what sourceReplaced compares later. */
  private anchor(rowid: number): string {
    const row = this.sourceQuery("SELECT guid FROM message WHERE ROWID = ?").get(rowid) as
      | { guid: string }
      | undefined;
    return `${rowid}:${row?.guid ?? ""}`;
  }

  /** Chats of the messages in a ROWID range (a build batch). */
  private chatsOf(fromRowid: number, toRowid: number): Map<number, number[]> {
    const chats = new Map<number, number[]>();
    // No ORDER BY: doc_chat's primary key orders them, and sorting each batch cost more than reading it.
    const stmt = this.sourceQuery(
      "SELECT message_id, chat_id FROM chat_message_join WHERE message_id > ? AND message_id <= ?",
    ).raw(true);
    addChats(chats, stmt.all(fromRowid, toRowid) as ChatJoinRow[]);
    return chats;
  }

  /** Chats of these messages (rows re-read after an edit). */
  private chatsOfRowids(rowids: number[]): Map<number, number[]> {
    const chats = new Map<number, number[]>();
    for (const chunk of chunks(rowids, 900)) {
      const stmt = this.source
        .prepare(
          `SELECT message_id, chat_id FROM chat_message_join WHERE message_id IN (${placeholders(chunk)})`,
        )
        .raw(true);
      addChats(chats, stmt.all(...chunk) as ChatJoinRow[]);
    }
    return chats;
  }

  /** Identity of chat.db that survives edits and deletions but not a replacement. */
  private sourceSequence(): number {
    try {
      const row = this.sourceQuery("SELECT seq FROM sqlite_sequence WHERE name = 'message'").get() as
        | { seq: number }
        | undefined;
      if (row) return row.seq;
    } catch {
      // No sqlite_sequence (not AUTOINCREMENT): fall back to the highest ROWID.
    }
    return (
      (this.sourceQuery("SELECT MAX(ROWID) AS max FROM message").get() as { max: number | null }).max ?? 0
    );
  }

  private anchorMismatch(key: string): boolean {
    const anchor = this.meta(key);
    if (!anchor) return false;
    const colon = anchor.indexOf(":");
    const rowid = Number(anchor.slice(0, colon));
    const guid = anchor.slice(colon + 1);
    const row = this.sourceQuery("SELECT guid FROM message WHERE ROWID = ?").get(rowid) as
      | { guid: string }
      | undefined;
    // A deleted row proves nothing; a different guid at the same ROWID means another database.
    return row !== undefined && row.guid !== guid;
  }

  private sourceReplaced(): boolean {
    return (
      this.sourceSequence() < this.watermark ||
      this.anchorMismatch("anchor_first") ||
      this.anchorMismatch("anchor_last")
    );
  }

  /** Empties the index (chat.db was replaced, or the format changed). */
  reset(): void {
    this.db.transaction(() => {
      this.db.exec(
        "DELETE FROM doc; DELETE FROM doc_chat; DELETE FROM vocab; DELETE FROM meta WHERE key <> 'format';",
      );
      this.db.exec("INSERT INTO doc_fts(doc_fts) VALUES ('delete-all')");
    })();
    this.vocabulary = null;
  }

  // ---- writing the index ---------------------------------------------------------------------

  /**
   * Writes (or removes) the rows' documents. Runs inside the caller's transaction. Their words are added to
   * `words`, for the caller to store once per transaction (`addWords`): per chunk, the same few thousand
   * common words would be offered to the vocabulary again and again.
   */
  private writeRows(
    rows: SourceRow[],
    chats: Map<number, number[]>,
    replace: boolean,
    words: Set<string>,
  ): number {
    const insertDoc = this.statement(
      "INSERT INTO doc (rowid, handle_id, date, pmax, text) VALUES (?, ?, ?, ?, ?)",
    );
    // Dates later than tomorrow (clock errors, crafted values) stay out of the running maximum, or they would
    // lift it for every later document; searches read those few "outliers" separately.
    const ceiling = instantKey(new Date()) + DAY_NANOS;
    let running = BigInt(this.meta("pmax") ?? "0");
    let outlierFloor = this.meta("outlier_floor");
    let broken = false;
    const insertChat = this.statement("INSERT OR IGNORE INTO doc_chat (rowid, chat_id) VALUES (?, ?)");
    let written = 0;
    for (const row of rows) {
      if (replace) this.removeDoc(row.ROWID);
      const text = indexableText(row);
      // Dates are stored as date keys (nanoseconds whatever chat.db's encoding), so windows are one range.
      // Rows without a usable date are left out, as date-ordered reads of chat.db leave them out.
      const key = dateKey(row.date);
      if (text === null || key === null) continue;
      const date = clampToInt64(key);
      let pmax: bigint;
      if (date > ceiling) {
        pmax = running;
        if (outlierFloor === null || date < BigInt(outlierFloor)) outlierFloor = String(date);
      } else if (replace) {
        // A re-read row keeps its rowid: its pmax is its predecessor's (or its own date), and if its date is
        // later than a following document's pmax the invariant no longer holds: the early stop is switched off.
        const around = (sql: string) =>
          (this.statement(sql).safeIntegers(true).get(row.ROWID) as { pmax: bigint | null } | undefined)
            ?.pmax ?? null;
        const previous = around("SELECT pmax FROM doc WHERE rowid < ? ORDER BY rowid DESC LIMIT 1");
        const next = around("SELECT pmax FROM doc WHERE rowid > ? ORDER BY rowid LIMIT 1");
        pmax = previous !== null && previous > date ? previous : date;
        if (next !== null && date > next) broken = true;
        if (date > running) running = date;
      } else {
        if (date > running) running = date;
        pmax = running;
      }
      insertDoc.run(row.ROWID, row.handle_id, date, pmax, text);
      for (const chat of chats.get(row.ROWID) ?? []) insertChat.run(row.ROWID, chat);
      for (const word of searchWords(text)) words.add(word);
      written++;
    }
    // A re-read row's text goes to the full-text index here; a build's, once per batch (indexNextBatch).
    if (written > 0 && replace) {
      const insertFts = this.statement(
        "INSERT INTO doc_fts (rowid, text) SELECT rowid, text FROM doc WHERE rowid = ?",
      );
      for (const row of rows) insertFts.run(row.ROWID);
    }
    this.setMeta("pmax", running);
    if (outlierFloor !== null) this.setMeta("outlier_floor", outlierFloor);
    if (broken) this.setMeta("pmax_broken", 1);
    return written;
  }

  /** Stores new words in the vocabulary (fuzzy search expands against it). Runs inside the caller's transaction. */
  private addWords(words: Set<string>): void {
    const insertWord = this.statement("INSERT OR IGNORE INTO vocab (word) VALUES (?)");
    let added = 0;
    for (const word of words) added += insertWord.run(word).changes;
    if (added > 0) this.setMeta("vocab_version", Number(this.meta("vocab_version") ?? 0) + 1);
  }

  /** Removes a message's document and chat links. Runs inside the caller's transaction. */
  private removeDoc(rowid: number): void {
    this.statement("DELETE FROM doc WHERE rowid = ?").run(rowid);
    this.statement("DELETE FROM doc_chat WHERE rowid = ?").run(rowid);
  }

  /** The edit mark: the latest edit or unsend time read so far (a date key), 0 when none. */
  private editMark(): bigint {
    const text = this.meta("edit_mark");
    return text !== null && /^-?\d{1,19}$/.test(text) ? BigInt(text) : 0n;
  }

  /**
   * Moves the edit mark to the latest edit/unsend time among these rows. Never past now (+ the margin): a
   * bogus future date (clock error, a crafted 1e300) would otherwise hide every later edit.
   */
  private noteEdits(rows: SourceRow[]): void {
    const ceiling = instantKey(new Date()) + EDIT_MARGIN_NANOS;
    let mark = this.editMark();
    const before = mark;
    for (const row of rows) {
      for (const value of [row.date_edited, row.date_retracted]) {
        const key = dateKey(value);
        if (key !== null && key > mark && key <= ceiling) mark = key;
      }
    }
    if (mark !== before) this.setMeta("edit_mark", mark);
  }

  /**
   * Indexes the next batch above the watermark in one transaction that also moves the watermark.
   * BEGIN IMMEDIATE: two server processes sharing the index take turns and never index a row twice.
   */
  private indexNextBatch(): number {
    return this.db
      .transaction(() => {
        const from = this.watermark;
        const read = this.sourceStatement("m.ROWID > ? ORDER BY m.ROWID LIMIT ?");
        const chunk = Math.min(READ_CHUNK, this.batchSize);
        let after = from;
        let count = 0;
        const words = new Set<string>();
        while (count < this.batchSize) {
          const rows = this.sourceRows(read, after, Math.min(chunk, this.batchSize - count));
          const last = rows.at(-1);
          if (!last) break;
          this.writeRows(rows, this.chatsOf(after, last.ROWID), false, words);
          this.noteEdits(rows);
          if (after === 0) this.setMeta("anchor_first", this.anchor(rows[0]?.ROWID ?? last.ROWID));
          after = last.ROWID;
          count += rows.length;
          if (rows.length < chunk) break;
        }
        if (count === 0) return 0;
        // The full-text index is fed once per batch, not by a trigger per row (one INSERT … SELECT over the
        // batch cost a fifth of the CPU: 0.38 s against 1.73 s per 100k messages), nor per chunk: FTS5 writes
        // its pending terms out as a new segment at every statement, and five times the segments cost 2 s of
        // CPU more to write and merge at 1M.
        this.statement(
          "INSERT INTO doc_fts (rowid, text) SELECT rowid, text FROM doc WHERE rowid > ? AND rowid <= ?",
        ).run(from, after);
        this.addWords(words);
        this.setMeta("anchor_last", this.anchor(after));
        this.setMeta("watermark", after);
        return count;
      })
      .immediate();
  }

  /** Messages above the watermark (all of them for a fresh build: then SQLite counts a small index). */
  private remainingCount(): number {
    const watermark = this.watermark;
    const row = (
      watermark === 0
        ? this.sourceQuery("SELECT COUNT(*) AS n FROM message").get()
        : this.sourceQuery("SELECT COUNT(*) AS n FROM message WHERE ROWID > ?").get(watermark)
    ) as { n: number };
    return row.n;
  }

  /**
   * Builds (or resumes building) the index up to chat.db's current end, yielding to the event loop between
   * batches so a server stays responsive. Progress counts messages read, including resumed ones.
   */
  async build(options: BuildOptions = {}): Promise<BuildResult> {
    if (this.sourceReplaced()) this.reset();
    const startedAt = dateToAppleNanosBigInt(new Date());
    // A build from scratch reads every row, edits included: the daily sweep starts counting now.
    if (this.watermark === 0) this.setMeta("edit_sweep_at", Date.now());
    const alreadyDone = Number(this.meta("build_done") ?? 0);
    const total = alreadyDone + this.remainingCount();
    let done = alreadyDone;
    let scanned = 0;
    let batches = 0;
    options.onProgress?.(done, total);
    for (;;) {
      if (options.signal?.aborted || (options.maxBatches !== undefined && batches >= options.maxBatches)) {
        return { scanned, ready: this.ready };
      }
      const n = this.indexNextBatch();
      batches++;
      scanned += n;
      done += n;
      this.setMeta("build_done", done);
      if (n > 0) options.onProgress?.(Math.min(done, total), Math.max(total, done));
      if (n < this.batchSize) break;
      await yieldToEventLoop();
    }
    this.db.transaction(() => {
      // Edits made while building were either read with the row or come after `startedAt`.
      const mark = this.editMark();
      if (startedAt - EDIT_MARGIN_NANOS > mark) this.setMeta("edit_mark", startedAt - EDIT_MARGIN_NANOS);
      this.setMeta("ready", 1);
    })();
    this.db.pragma("optimize");
    this.lastDataVersion = -1;
    return { scanned, ready: true };
  }

  /**
   * Brings a ready index up to date with chat.db: new rows, edits and unsends. Cheap when chat.db has not
   * changed (one `PRAGMA data_version`). Synchronous, so a search can sync and answer in one step.
   */
  sync(): SyncResult {
    const result: SyncResult = { added: 0, rechecked: 0, reset: false };
    if (!this.ready) return result;
    const dataVersion = this.source.pragma("data_version", { simple: true }) as number;
    if (dataVersion === this.lastDataVersion) return result;
    if (this.sourceReplaced()) {
      this.reset();
      result.reset = true;
      return result;
    }
    for (;;) {
      const n = this.indexNextBatch();
      result.added += n;
      if (n < this.batchSize) break;
    }
    result.rechecked = this.recheckEdits(false);
    this.lastDataVersion = dataVersion;
    return result;
  }

  /** True when the last full edit sweep (see `sweepEdits`) is older than a day: a background job is due. */
  get sweepDue(): boolean {
    const last = Number(this.meta("edit_sweep_at") ?? 0);
    return this.ready && Date.now() - last > SWEEP_INTERVAL_MS;
  }

  /**
   * Re-reads every edited or unsent row once: catches an edit made on another device that reached this Mac
   * long after it was made (its edit time is then older than the mark). It reads the whole table, so it runs
   * at most daily and off the main thread (the index worker), never per process or per search.
   */
  sweepEdits(): number {
    const rechecked = this.recheckEdits(true);
    this.setMeta("edit_sweep_at", Date.now());
    return rechecked;
  }

  /**
   * Re-reads rows edited or unsent since the edit mark (minus a clock-skew margin). Messages only lets a
   * message be edited within 15 minutes of sending (unsent within 2), so the look-up is bounded by
   * `message.date` (Apple's message_idx_date): incremental, whatever the size of chat.db. `full` reads every
   * row instead (the daily sweep).
   */
  private recheckEdits(full: boolean): number {
    const edited = hasColumn(this.schema, "message", "date_edited");
    const retracted = hasColumn(this.schema, "message", "date_retracted");
    if (!edited && !retracted) return 0;
    const since = full ? 0n : this.editMark() - EDIT_MARGIN_NANOS;
    const conditions = [
      edited ? "m.date_edited > ?" : null,
      retracted ? "m.date_retracted > ?" : null,
    ].filter((c): c is string => c !== null);
    const bounded = full ? "" : " AND m.date >= ?";
    const stmt = this.sourceStatement(`m.ROWID <= ?${bounded} AND (${conditions.join(" OR ")})`);
    const params: unknown[] = [this.watermark];
    if (!full) params.push(clampToInt64(since - EDIT_WINDOW_NANOS));
    const rows = this.sourceRows(stmt, ...params, ...conditions.map(() => clampToInt64(since)));
    if (rows.length === 0) return 0;
    this.db.transaction(() => {
      const words = new Set<string>();
      this.writeRows(rows, this.chatsOfRowids(rows.map((r) => r.ROWID)), true, words);
      this.addWords(words);
      this.noteEdits(rows);
    })();
    return rows.length;
  }

  /** Drops rows that no longer exist in chat.db (deleted messages found while hydrating hits). */
  forget(rowids: number[]): void {
    if (rowids.length === 0) return;
    this.db.transaction(() => {
      for (const rowid of rowids) this.removeDoc(rowid);
    })();
  }

  // ---- searching -----------------------------------------------------------------------------

  /** SQL filter over `d` (doc): the scan's own filter on the columns copied from chat.db. */
  private filter(query: SearchQuery): { where: string; params: unknown[] } {
    const { clauses, params } = messageFilterClauses(query, DOC_FILTER_COLUMNS);
    return { where: clauses.length > 0 ? clauses.join(" AND ") : "1", params };
  }

  /**
   * ROWIDs of matching messages, in the scan's order, at most `query.limit`. Throws when the index is not
   * ready (the caller then scans). May include rows deleted from chat.db since: the caller drops those.
   */
  search(query: SearchQuery): number[] {
    if (!this.ready) throw new SearchIndexError("The search index is not built yet.");
    return this.searchIndexed(query);
  }

  /**
   * Like `search`, over whatever is indexed so far (every ROWID up to the watermark while a build runs):
   * for answering during a build, together with a scan of the rest.
   */
  searchIndexed(query: SearchQuery): number[] {
    const mode = query.mode ?? "substring";
    const matcher = createTextMatcher(query.text, mode);
    if (matcher.needle.trim().length === 0) return [];
    const limit = Math.max(0, Math.floor(query.limit));
    if (limit === 0) return [];
    const ftsQuery =
      mode === "fuzzy" ? this.fuzzyFtsQuery(matcher.needle) : this.substringFtsQuery(matcher.needle);
    const filtered = this.filter(query);
    let where = filtered.where;
    const params = filtered.params;
    const order = query.order === "asc" ? "ASC" : "DESC";
    // Date order, ties by ROWID, as the store reads chat.db; polling (afterRowid) reads in arrival order.
    const orderBy = query.afterRowid !== undefined ? "d.rowid ASC" : `d.date ${order}, d.rowid ${order}`;
    if (query.cursor !== undefined && query.afterRowid === undefined) {
      const position = decodePosition(query.cursor);
      if (!position) throw new RangeError("SearchQuery.cursor is not a Message.position");
      const key = clampToInt64(position.key);
      const beyond = order === "DESC" ? "<" : ">";
      where += ` AND d.date ${beyond}= ? AND (d.date <> ? OR d.rowid ${beyond} ?)`;
      params.push(key, key, position.rowid);
    }
    let stmt: Statement;
    let bound: unknown[];
    if (ftsQuery === "none") {
      return [];
    } else if (ftsQuery === null) {
      // Too short for trigrams: read the already-decoded text column (no blob decoding), narrowed by instr.
      const narrow = mode === "substring" ? "instr(d.text, ?) > 0 AND " : "";
      stmt = this.statement(
        `SELECT d.rowid AS rowid, d.text AS text, d.date AS date FROM doc d WHERE ${narrow}${where} ORDER BY ${orderBy}`,
      );
      bound = mode === "substring" ? [matcher.needle, ...params] : params;
    } else {
      stmt = this.statement(
        `SELECT d.rowid AS rowid, d.text AS text, d.date AS date FROM doc_fts f JOIN doc d ON d.rowid = f.rowid
         WHERE doc_fts MATCH ? AND ${where} ORDER BY ${orderBy}`,
      );
      bound = [ftsQuery, ...params];
    }
    if (
      ftsQuery !== null &&
      order === "DESC" &&
      query.afterRowid === undefined &&
      this.meta("pmax_broken") === null
    ) {
      return this.newestByPrefixMax(matcher, ftsQuery, where, params, limit);
    }
    const hits: { rowid: number; date: bigint }[] = [];
    for (const row of stmt.safeIntegers(true).iterate(...bound) as Iterable<{
      rowid: bigint;
      text: string;
      date: bigint;
    }>) {
      if (!matcher.matches(row.text)) continue;
      hits.push({ rowid: Number(row.rowid), date: row.date });
      if (hits.length >= limit) break;
    }
    if (query.afterRowid !== undefined) {
      const sign = order === "DESC" ? -1 : 1;
      hits.sort((a, b) => sign * (a.date !== b.date ? (a.date < b.date ? -1 : 1) : a.rowid - b.rowid));
    }
    return hits.map((h) => h.rowid);
  }

  /**
   * Date order without sorting every candidate. FTS5 yields candidates by rowid (newest rowids first);
   * `pmax` bounds the dates of every document at or below a rowid, so once the limit-th best date so far
   * is later than the current candidate's `pmax`, no unread candidate can enter the page. Where ROWID order
   * follows date order (nearly always) that is right after the page is full; where it does not (a restore,
   * an import) the walk simply reads further. Outliers (dates beyond the day they were indexed) are read first.
   */
  private newestByPrefixMax(
    matcher: ReturnType<typeof createTextMatcher>,
    ftsQuery: string,
    where: string,
    params: unknown[],
    limit: number,
  ): number[] {
    type Hit = { rowid: number; date: bigint };
    const best: Hit[] = [];
    const later = (a: Hit, b: Hit) => a.date > b.date || (a.date === b.date && a.rowid > b.rowid);
    const offer = (hit: Hit) => {
      if (best.length === limit && !later(hit, best[limit - 1] as Hit)) return;
      let i = best.length;
      while (i > 0 && later(hit, best[i - 1] as Hit)) i--;
      best.splice(i, 0, hit);
      if (best.length > limit) best.pop();
    };
    const floorText = this.meta("outlier_floor");
    const floor = floorText === null ? null : BigInt(floorText);
    if (floor !== null) {
      const outliers = this.statement(
        `SELECT d.rowid AS rowid, d.text AS text, d.date AS date FROM doc d WHERE d.date >= ? AND ${where}`,
      ).safeIntegers(true);
      for (const row of outliers.iterate(floor, ...params) as Iterable<{
        rowid: bigint;
        text: string;
        date: bigint;
      }>) {
        if (matcher.matches(row.text)) offer({ rowid: Number(row.rowid), date: row.date });
      }
    }
    const walk = this.statement(
      `SELECT d.rowid AS rowid, d.text AS text, d.date AS date, d.pmax AS pmax FROM doc_fts f JOIN doc d ON d.rowid = f.rowid
       WHERE doc_fts MATCH ? AND ${where}${floor === null ? "" : " AND d.date < ?"} ORDER BY f.rowid DESC`,
    ).safeIntegers(true);
    const bound = floor === null ? [ftsQuery, ...params] : [ftsQuery, ...params, floor];
    for (const row of walk.iterate(...bound) as Iterable<{
      rowid: bigint;
      text: string;
      date: bigint;
      pmax: bigint | null;
    }>) {
      const last = best.length === limit ? best[limit - 1] : undefined;
      if (last && row.pmax !== null && last.date > row.pmax) break;
      if (matcher.matches(row.text)) offer({ rowid: Number(row.rowid), date: row.date });
    }
    return best.map((h) => h.rowid);
  }

  /** FTS5 expression for a substring needle, or null when it is too short for trigrams. */
  private substringFtsQuery(needle: string): string | null {
    return codePoints(needle) >= TRIGRAM ? trigramQuery(needle) : null;
  }

  /**
   * Candidates for fuzzy mode. The matcher accepts a message that contains the whole query, or in which every
   * query word matches some word within the allowed edits. Words are expanded against the vocabulary of
   * indexed words (so candidates are a superset) and looked up by their trigrams; query words with a
   * variant too short for trigrams cannot narrow anything and are left to verification.
   * Returns "none" when nothing can match, null when the index cannot narrow (verify every document).
   */
  private fuzzyFtsQuery(needle: string): string | "none" | null {
    const queryWords = searchWords(needle);
    if (queryWords.length === 0) return "none";
    const wholeQuery = this.substringFtsQuery(needle);
    if (wholeQuery === null) return null;
    const wordGroups: string[] = [];
    for (const word of queryWords) {
      const variants = this.variantsOf(word);
      if (variants.length === 0) return wholeQuery; // this word matches nothing, so only the whole query can
      if (variants.some((v) => codePoints(v) < TRIGRAM)) continue;
      wordGroups.push(`(${variants.map(trigramQuery).join(" OR ")})`);
    }
    if (wordGroups.length === 0) return null;
    return `${wholeQuery} OR (${wordGroups.join(" AND ")})`;
  }

  /** Indexed words within the edits the matcher allows for `word` (the word itself included). */
  private variantsOf(word: string): string[] {
    const max = allowedEdits(word);
    if (max === 0) return this.hasWord(word) ? [word] : [];
    const vocabulary = this.loadVocabulary();
    const variants: string[] = [];
    for (let length = word.length - max; length <= word.length + max; length++) {
      for (const candidate of vocabulary.get(length) ?? []) {
        if (candidate === word || boundedEditDistance(word, candidate, max) <= max) variants.push(candidate);
      }
    }
    return variants;
  }

  private hasWord(word: string): boolean {
    return this.statement("SELECT 1 FROM vocab WHERE word = ?").get(word) !== undefined;
  }

  /** The vocabulary grouped by UTF-16 length (what the edit distance counts), reloaded when it grew. */
  private loadVocabulary(): Map<number, string[]> {
    const version = Number(this.meta("vocab_version") ?? 0);
    if (this.vocabulary && this.vocabularyVersion === version) return this.vocabulary;
    const byLength = new Map<number, string[]>();
    for (const { word } of this.statement("SELECT word FROM vocab").iterate() as Iterable<{ word: string }>) {
      const list = byLength.get(word.length);
      if (list) list.push(word);
      else byLength.set(word.length, [word]);
    }
    this.vocabulary = byLength;
    this.vocabularyVersion = version;
    return byLength;
  }
}

const SCHEMA_SQL = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  -- One row per chat.db message that has searchable text; text is already normalised.
  -- pmax: the latest date among documents up to this rowid (see "date order without sorting" in searchIndexed).
  CREATE TABLE IF NOT EXISTS doc (rowid INTEGER PRIMARY KEY, handle_id INTEGER, date INTEGER, pmax INTEGER, text TEXT NOT NULL);
  -- Date order for searches too short for trigrams (dates are date keys: nanoseconds since 2001).
  CREATE INDEX IF NOT EXISTS doc_date ON doc (date);
  CREATE TABLE IF NOT EXISTS doc_chat (rowid INTEGER NOT NULL, chat_id INTEGER NOT NULL, PRIMARY KEY (rowid, chat_id)) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS vocab (word TEXT PRIMARY KEY) WITHOUT ROWID;
  -- case_sensitive 1: the text is already lower-cased by normalizeForSearch; SQLite's own folding could differ.
  CREATE VIRTUAL TABLE IF NOT EXISTS doc_fts USING fts5(
    text, content = 'doc', content_rowid = 'rowid', tokenize = 'trigram case_sensitive 1', columnsize = 0, detail = none
  );
  -- Inserts reach doc_fts batch by batch (see writeRows); deletes through this trigger.
  CREATE TRIGGER IF NOT EXISTS doc_ad AFTER DELETE ON doc BEGIN
    INSERT INTO doc_fts (doc_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
  END;
`;

function openIndexFile(path: string, chatDbPath: string): Database {
  createPrivateFile(path);
  const db = new BetterSqlite3(path);
  try {
    db.pragma("busy_timeout = 5000");
    db.pragma("journal_mode = WAL");
    // The index can always be rebuilt from chat.db, so a lost last transaction after a power cut is fine.
    db.pragma("synchronous = NORMAL");
    db.pragma(`cache_size = -${INDEX_CACHE_KIB}`);
    db.exec(SCHEMA_SQL);
    const format = db.prepare("SELECT value FROM meta WHERE key = 'format'").get() as
      | { value: string }
      | undefined;
    if (format === undefined) {
      db.prepare("INSERT INTO meta (key, value) VALUES ('format', ?), ('chat_db', ?)").run(
        String(INDEX_FORMAT),
        chatDbPath,
      );
    } else if (format.value !== String(INDEX_FORMAT)) {
      throw Object.assign(new Error(`index format ${format.value}, expected ${INDEX_FORMAT}`), {
        code: "SQLITE_CORRUPT",
      });
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Errors that mean "this file is not a usable index": move it aside and start again. */
export function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    code === "SQLITE_NOTADB" ||
    (typeof code === "string" && code.startsWith("SQLITE_CORRUPT")) ||
    (error instanceof Error && /malformed|no such table|no such column/i.test(error.message))
  );
}
