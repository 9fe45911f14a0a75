// Read-only access to chat.db. Thin adapter: SQL built from the detected schema, rows mapped by
// small pure functions. The connection is opened read-only (never writes, so Messages is never
// disturbed) without `immutable`, so rows still in chat.db-wal are visible.
import { accessSync, constants, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import type { Database, Statement } from "better-sqlite3";
import { appleNanosToDate } from "./apple-time.js";
import {
  comparePositions,
  type DateRange,
  dateKey,
  dateRanges,
  decodePosition,
  encodePosition,
  MergedDateOrder,
  type Position,
  rangeBeyond,
} from "./date-order.js";
import {
  classifyOpenError,
  MessagesDbError,
  notFoundError,
  notMessagesDbError,
  permissionDeniedError,
} from "./errors.js";
import {
  messageBlobs,
  messageFromRow,
  OPTIONAL_MESSAGE_COLUMNS,
  previewOf,
  type RowContext,
  rowText,
  type MessageRow as SelectedMessageRow,
} from "./message-row.js";
import { columnOrNull, hasColumn, missingTables, readSchema, type SchemaInfo } from "./schema.js";
import {
  BOUND_LIMIT,
  chunks,
  type FilterColumns,
  type MessageFilter,
  messageFilterClauses,
  openChatDbReadOnly,
  placeholders,
  statementCache,
  windowClause,
} from "./sql.js";
import {
  associatedGuidForms,
  isTapbackType,
  parseAssociatedGuid,
  TAPBACK_ADD_MIN,
  TAPBACK_REMOVE_MAX,
  type TapbackEvent,
} from "./tapbacks.js";
import { createTextMatcher, searchableText, textColumn } from "./text-match.js";
import type {
  Attachment,
  AttachmentQuery,
  AttachmentWithMessage,
  Chat,
  ChatSummary,
  Handle,
  ListChatsOptions,
  Message,
  MessageQuery,
  MessagesReader,
  ReplyTarget,
  SearchQuery,
  Service,
} from "./types.js";

const GROUP_STYLE = 43;
const CHAT_COLUMNS = "ROWID, guid, chat_identifier, display_name, style, service_name";
/** chat.db's columns for the filters the search index shares (see `messageFilterClauses`). */
const MESSAGE_FILTER_COLUMNS: FilterColumns = {
  date: "m.date",
  dateEncoding: "chat.db",
  rowid: "m.ROWID",
  handle: "m.handle_id",
  inChats: (list) => `m.ROWID IN (SELECT message_id FROM chat_message_join WHERE chat_id IN (${list}))`,
};

/** A message row as the store selects it: the columns message-row.ts reads, plus the date it was ordered by. */
interface MessageRow extends SelectedMessageRow {
  /** The date the row was ordered by, as exact decimal text (nanosecond dates exceed 2^53). */
  sort_date: string | number | null;
}

/**
 * Where a date-ordered read walks: all messages (Apple's message_idx_date), one chat (chat_message_join's
 * (chat_id, message_date, message_id) index) or one handle (message_idx_handle: (handle_id, date)).
 */
type OrderSource = { kind: "all" } | { kind: "chat"; rowid: number } | { kind: "handle"; rowid: number };

/**
 * One index range walked in order: a source within one date encoding (see date-order.ts). `unsetJoinDate`:
 * the chat's rows whose chat_message_join.message_date is 0 (unset; Apple's trigger keeps it equal to
 * message.date otherwise), which are ordered by message.date itself — usually none, so the sort is free.
 */
interface OrderStream {
  source: OrderSource;
  range: DateRange;
  unsetJoinDate?: boolean;
}

/** The message columns every chat.db has; then OPTIONAL_MESSAGE_COLUMNS: a message row's columns, in order. */
const REQUIRED_MESSAGE_COLUMNS = ["ROWID", "guid", "text", "handle_id", "date", "is_from_me"] as const;
const MESSAGE_ROW_ORDER: readonly string[] = [...REQUIRED_MESSAGE_COLUMNS, ...OPTIONAL_MESSAGE_COLUMNS];

/** What a date-ordered read selects: the full message row, or only what search compares. */
type OrderSelect = "message" | "searchable";

interface ChatRow {
  ROWID: number;
  guid: string;
  chat_identifier: string | null;
  display_name: string | null;
  style: number | null;
  service_name: string | null;
}

/**
 * Whether a chat's stored last date falls in one of `ranges` (dateRanges: one per date encoding), compared as
 * SQLite compares it with the ranges' integer bounds: integers exactly (bigint), REALs by value (a number and
 * a bigint compare exactly), and NULL, TEXT and BLOB never (the ranges are always bounded above, and SQLite
 * sorts text and blobs above every number).
 */
function lastDateIn(value: ListingEntry["lastDate"], ranges: DateRange[]): boolean {
  if (typeof value !== "bigint" && typeof value !== "number") return false;
  return ranges.some((r) => (r.low === null || value >= r.low) && (r.high === null || value <= r.high));
}

/**
 * A chat's place in listChats' order: its ROWID and the stored date of its last message, exactly as SQLite
 * holds it (integers as bigint: nanoseconds do not fit a double; REAL as number; TEXT or BLOB if garbage).
 */
interface ListingEntry {
  rowid: number;
  lastDate: bigint | number | string | Buffer | null;
}

interface AttachmentRow {
  ROWID: number;
  guid: string;
  filename: string | null;
  transfer_name: string | null;
  mime_type: string | null;
  uti: string | null;
  total_bytes: number | null;
  is_sticker: number | null;
  emoji_image_short_description: string | null;
  created_date: number | bigint | null;
}

/**
 * Attachment paths are stored as `~/Library/Messages/...`. They are resolved against the folder that
 * holds this chat.db when it lives in a `Messages` folder (a copy, or the demo), else the user's home.
 */
export function resolveAttachmentPath(stored: string | null, dbPath: string): string | null {
  if (!stored) return null;
  const prefix = "~/Library/Messages/";
  if (stored.startsWith(prefix)) {
    const messagesDir = dirname(dbPath);
    if (basename(messagesDir) === "Messages") return join(messagesDir, stored.slice(prefix.length));
    return join(homedir(), stored.slice(2));
  }
  if (stored.startsWith("~/")) return join(homedir(), stored.slice(2));
  return stored;
}

export interface OpenOptions {
  /** The path came from the user (--db / env), so a missing file is their typo, not "no Mac here". */
  explicit?: boolean;
}

export function openMessagesStore(path: string, options: OpenOptions = {}): MessagesStore {
  try {
    if (statSync(path).isDirectory()) throw notMessagesDbError(path, "it is a folder, not a file");
  } catch (error) {
    if (error instanceof MessagesDbError) throw error;
    const code = (error as { code?: string }).code;
    if (code === "ENOENT") throw notFoundError(path, options.explicit ?? true);
    throw classifyOpenError(path, error);
  }
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw permissionDeniedError(path);
  }
  let db: Database;
  try {
    db = openChatDbReadOnly(path);
  } catch (error) {
    throw classifyOpenError(path, error);
  }
  let schema: SchemaInfo;
  try {
    schema = readSchema(db);
  } catch (error) {
    db.close();
    throw classifyOpenError(path, error);
  }
  const missing = missingTables(schema);
  if (missing.length > 0) {
    db.close();
    throw notMessagesDbError(path, `missing table${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
  }
  return new MessagesStore(path, db, schema);
}

/** Messages whose reactions `reactions` keeps at most (beyond, it starts again). */
const MAX_KEPT_REACTIONS = 4096;
const NO_REACTIONS: readonly TapbackEvent[] = [];

/**
 * A value read from chat.db, kept while chat.db's `PRAGMA data_version` is the one it was read at: any commit
 * by another connection (Messages writing, a message read or deleted) changes it.
 */
class KeptPerVersion<T> {
  private version = -1;
  private value: T | undefined;

  get(version: number, read: () => T): T {
    if (this.value === undefined || this.version !== version) {
      this.value = read();
      this.version = version;
    }
    return this.value;
  }
}

export class MessagesStore implements MessagesReader {
  private readonly handles = new Map<number, Handle>();
  /**
   * Message counts per chat (see messageCounts), valid while `countsDeletionMark` holds; `version`: the
   * data_version the count was last brought up to date at (unchanged since: nothing to add).
   */
  private readonly counts = new Map<number, { count: number; lastMessageId: number; version: number }>();
  private countsDeletionMark = "";
  /** deletionMark() as read at a data_version: a deletion commits, so it changes data_version too. */
  private readonly deletions = new KeptPerVersion<string>();
  /** Unread counts by chat (see unreadCountsByChat). */
  private readonly unread = new KeptPerVersion<Map<number, number>>();
  /** Every chat in listChats' order (see orderedChats). */
  private readonly listing = new KeptPerVersion<ListingEntry[]>();
  /**
   * The chat row, participants (handle ROWIDs) and last message of each chat listed at this data_version, by
   * chat: other pages, filters (since_hours, whose window moves with the clock) and limits need only the
   * chats they add.
   */
  private readonly chatDetails = new KeptPerVersion<{
    rows: Map<number, ChatRow>;
    handles: Map<number, number[]>;
    lastMessages: Map<number, Message | null>;
  }>();
  private deletionCalls = 0;
  /** chat.db's `PRAGMA data_version` when `handles` was read: a miss reloads only if chat.db changed since. */
  private handlesVersion = -1;
  /**
   * `handles` as listHandles hands it out: one frozen array per read of the table, so a caller may key what
   * it derives from the list (tool-context.ts: handles by phone/email key) on the array and know it current.
   */
  private handleList: readonly Handle[] = [];
  /** Decoded bodies and summary infos of the messages read lately (decoded-blobs.ts). */
  private readonly blobs = messageBlobs();
  /**
   * Each message's reaction events by its guid, as read at one data_version: a reaction added or taken back
   * commits and changes it, and then every message's are read again. An assistant reads the same newest
   * messages again and again, and their reactions were two index probes per message each time.
   */
  private readonly reactions = new KeptPerVersion<Map<string, readonly TapbackEvent[]>>();
  private readonly statement: (sql: string) => Statement;
  /** The same cache, untraced: a page's look-ups by IN list (replies, reactions, attachments; see inList). */
  private readonly lookup: (sql: string) => Statement;
  /** SQL run while `queryPlans` watches. */
  private traced: string[] | null = null;
  /** Message columns, with the message's (first) chat looked up in chat_message_join. */
  private readonly messageSelect: string;
  /** The same columns when the query already joins chat_message_join as `j`. */
  private readonly chatMessageSelect: string;
  /** The message columns alone (callers add `chat_id` and `sort_date`). */
  private readonly messageColumns: string;
  /** How a page's reads leave out the columns that hold their default on nearly every row (see SPARSE_COLUMNS). */
  private readonly sparse: SparseColumns | null;
  private readonly notTapback: string;
  /** Whether this chat.db has the attachment tables (very old or stripped copies may not). */
  private readonly hasAttachmentTables: boolean;

  constructor(
    readonly path: string,
    private readonly db: Database,
    readonly schema: SchemaInfo,
  ) {
    const cached = statementCache(db);
    this.lookup = cached;
    this.statement = (sql) => {
      this.traced?.push(sql);
      return cached(sql);
    };
    const col = (c: string) => columnOrNull(schema, "message", "m", c);
    const columns = [
      ...REQUIRED_MESSAGE_COLUMNS.map((c) => `m.${c} AS ${c}`),
      ...OPTIONAL_MESSAGE_COLUMNS.map(col),
    ].join(", ");
    this.messageSelect = `${columns}, (SELECT cmj.chat_id FROM chat_message_join cmj WHERE cmj.message_id = m.ROWID LIMIT 1) AS chat_id, CAST(m.date AS TEXT) AS sort_date`;
    this.chatMessageSelect = `${columns}, j.chat_id AS chat_id, CAST(m.date AS TEXT) AS sort_date`;
    this.messageColumns = columns;
    this.sparse = sparseColumns(schema);
    this.notTapback = hasColumn(schema, "message", "associated_message_type")
      ? `(m.associated_message_type IS NULL OR m.associated_message_type NOT BETWEEN ${TAPBACK_ADD_MIN} AND ${TAPBACK_REMOVE_MAX})`
      : "1";
    this.hasAttachmentTables =
      schema.tables.has("attachment") && schema.tables.has("message_attachment_join");
    this.loadHandles();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * The query plans (EXPLAIN QUERY PLAN details) of the statements `read` runs through the statement cache:
   * what tests and the benchmark check to prove a page is an index walk (no `USE TEMP B-TREE FOR ORDER BY`).
   */
  queryPlans(read: (store: this) => unknown): { sql: string; plan: string[] }[] {
    this.traced = [];
    try {
      read(this);
      const distinct = [...new Set(this.traced)];
      return distinct.map((sql) => {
        const explain = this.db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
        const count = (sql.match(/\?/g) ?? []).length;
        const rows = explain.all(...Array.from({ length: count }, () => null)) as { detail: string }[];
        return { sql: sql.replace(/\s+/g, " "), plan: rows.map((r) => r.detail) };
      });
    } finally {
      this.traced = null;
    }
  }

  /** Wraps SQLite failures at query time (file vanished, permission revoked) in the same clear errors. */
  private run<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (error instanceof MessagesDbError) throw error;
      const code = (error as { code?: string }).code;
      if (typeof code === "string" && code.startsWith("SQLITE_")) throw classifyOpenError(this.path, error);
      throw error;
    }
  }

  /**
   * chat.db's `PRAGMA data_version`: changes whenever another connection (Messages) commits. Through the
   * statement cache: `db.pragma()` prepares the statement again at every call, and this is asked several
   * times per tool call.
   */
  private dataVersion(): number {
    return this.lookup("PRAGMA data_version").pluck().get() as number;
  }

  private loadHandles(): void {
    this.handlesVersion = this.dataVersion();
    const rows = this.db.prepare("SELECT ROWID, id, service FROM handle").all() as {
      ROWID: number;
      id: string;
      service: string;
    }[];
    this.handles.clear();
    for (const r of rows) this.handles.set(r.ROWID, { rowid: r.ROWID, id: r.id, service: r.service });
    this.handleList = Object.freeze([...this.handles.values()]);
  }

  private handle(rowid: number | null | undefined): Handle | null {
    if (!rowid) return null;
    let found = this.handles.get(rowid);
    // New conversations add handles while we run. Rows that point at a handle which no longer exists are
    // common in real databases, so a miss re-reads the table only when chat.db has changed since.
    if (!found && this.dataVersion() !== this.handlesVersion) {
      this.loadHandles();
      found = this.handles.get(rowid);
    }
    return found ?? null;
  }

  maxRowid(): number {
    return this.run(() => {
      const row = this.statement("SELECT MAX(ROWID) AS max FROM message").get() as { max: number | null };
      return row.max ?? 0;
    });
  }

  listHandles(): readonly Handle[] {
    return this.run(() => {
      // Asked on every call that names a contact: the table is read again only when chat.db has changed.
      if (this.dataVersion() !== this.handlesVersion) this.loadHandles();
      return this.handleList;
    });
  }

  // ---- chats ---------------------------------------------------------------------------------

  private chatFromRow(row: ChatRow, handleRowids?: number[]): Chat {
    const participants = (
      handleRowids ??
      (
        this.statement("SELECT handle_id FROM chat_handle_join WHERE chat_id = ? ORDER BY handle_id").all(
          row.ROWID,
        ) as { handle_id: number }[]
      ).map((r) => r.handle_id)
    )
      .map((rowid) => this.handle(rowid))
      .filter((h): h is Handle => h !== null);
    const identifier = row.chat_identifier ?? "";
    return {
      rowid: row.ROWID,
      guid: row.guid,
      identifier,
      displayName: row.display_name ? row.display_name : null,
      isGroup: row.style === GROUP_STYLE || (row.style == null && participants.length > 1),
      service: row.service_name ?? "iMessage",
      participants,
    };
  }

  getChat(ref: number | string): Chat | null {
    return this.run(() => {
      let row: ChatRow | undefined;
      if (typeof ref === "number") {
        row = this.statement(`SELECT ${CHAT_COLUMNS} FROM chat WHERE ROWID = ?`).get(ref) as
          | ChatRow
          | undefined;
      } else {
        row = this.statement(
          `SELECT ${CHAT_COLUMNS} FROM chat WHERE guid = ? OR chat_identifier = ? ORDER BY ROWID LIMIT 1`,
        ).get(ref, ref) as ChatRow | undefined;
      }
      return row ? this.chatFromRow(row) : null;
    });
  }

  chatsWithHandles(handleRowids: number[]): Chat[] {
    if (handleRowids.length === 0) return [];
    return this.run(() => {
      const rows = this.db
        .prepare(
          `SELECT ${CHAT_COLUMNS} FROM chat WHERE ROWID IN (SELECT chat_id FROM chat_handle_join WHERE handle_id IN (${placeholders(handleRowids)}))`,
        )
        .all(...handleRowids) as ChatRow[];
      return rows.map((r) => this.chatFromRow(r));
    });
  }

  listChats<Counted extends boolean = true>(options: ListChatsOptions<Counted>): ChatSummary<Counted>[] {
    return this.run(() => {
      const version = this.dataVersion();
      const unread = this.unreadCountsByChat(version);
      if (options.unreadOnly && unread.size === 0) return [];
      // Every chat in order, read once per data_version; the options pick from it (their SQL used to be a
      // new O(chats) statement per call for a window, which moves with the clock, or another page).
      let entries = this.orderedChats(version);
      if (options.unreadOnly) entries = entries.filter((entry) => unread.has(entry.rowid));
      if (options.since) {
        const ranges = dateRanges({ since: options.since });
        entries = entries.filter((entry) => lastDateIn(entry.lastDate, ranges));
      }
      const offset = Math.max(0, Math.floor(options.offset ?? 0));
      entries = entries.slice(offset, offset + Math.max(0, Math.floor(options.limit)));
      const chatRowids = entries.map((entry) => entry.rowid);
      // The chat rows, participants and last messages change only with chat.db too: kept per chat (they were
      // most of a warm list_chats' reads: about 2 of its 6 ms of CPU at 1M), read for chats not seen yet.
      const { rows, handles, lastMessages } = this.chatDetails.get(version, () => ({
        rows: new Map(),
        handles: new Map(),
        lastMessages: new Map(),
      }));
      const unseen = chatRowids.filter((id) => !rows.has(id));
      if (unseen.length > 0) {
        const chatRows = this.statement(
          `SELECT ${CHAT_COLUMNS} FROM chat WHERE ROWID IN (SELECT value FROM json_each(?))`,
        ).all(JSON.stringify(unseen)) as ChatRow[];
        const participants = this.participantRowids(unseen);
        const last = this.lastMessages(unseen);
        for (const row of chatRows) rows.set(row.ROWID, row);
        for (const id of unseen) {
          handles.set(id, participants.get(id) ?? []);
          lastMessages.set(id, last.get(id) ?? null);
        }
      }
      const counts = options.messageCounts === false ? null : this.messageCounts(chatRowids, version);
      return entries.flatMap((entry): ChatSummary<Counted>[] => {
        const row = rows.get(entry.rowid);
        // Only a chat deleted by a commit between the listing and this read is missing: the next call (a new
        // data_version) reads both again.
        if (!row) return [];
        const chat = this.chatFromRow(row, handles.get(row.ROWID) ?? []);
        const last = lastMessages.get(row.ROWID) ?? null;
        // As a double, as the listing read it before (appleNanosToDate rounds a bigint slightly differently).
        const lastDate = typeof entry.lastDate === "bigint" ? Number(entry.lastDate) : entry.lastDate;
        // Object.assign, not `{ ...chat, lastMessage, … }`: on Node 20 (V8 11.3) properties written after a
        // spread take a slow path, about 8 µs per summary here (0.4 ms of a page of 50 chats; 0.03 ms so).
        const summary = Object.assign(chat, {
          lastMessage: last,
          lastActivity:
            (typeof lastDate === "number" ? appleNanosToDate(lastDate) : null) ?? last?.date ?? null,
          // Without counts (only possible when Counted is not `true`) the count is null.
          messageCount: (counts === null
            ? null
            : (counts.get(row.ROWID) ?? 0)) as ChatSummary<Counted>["messageCount"],
          unreadCount: unread.get(row.ROWID) ?? 0,
        });
        return [summary];
      });
    });
  }

  /**
   * Every chat, most recently active first (chats without messages last, ties by ROWID): O(chats), never
   * O(messages), as each chat's last date is one step down its (chat_id, message_date) index and only the
   * chats are sorted (about 1 ms for 400 chats; the plan is asserted in test/messages/list-chats.test.ts).
   * Kept while chat.db is unchanged (data_version: any commit by Messages changes it), as `handles` are.
   */
  private orderedChats(version: number): ListingEntry[] {
    return this.listing.get(version, () => {
      // Old databases lack chat_message_join.message_date; fall back to the messages' own dates.
      const lastDate = hasColumn(this.schema, "chat_message_join", "message_date")
        ? "(SELECT MAX(message_date) FROM chat_message_join WHERE chat_id = c.ROWID)"
        : "(SELECT MAX(m.date) FROM chat_message_join j JOIN message m ON m.ROWID = j.message_id WHERE j.chat_id = c.ROWID)";
      // Only the keys: the other columns of 400 chats cost about 2 ms more, and a page needs 50. Safe
      // integers, so that a window compares the dates exactly (see lastDateIn).
      const rows = this.statement(
        `SELECT ROWID, last_date FROM (SELECT c.ROWID, ${lastDate} AS last_date FROM chat c)
         ORDER BY last_date IS NULL, last_date DESC, ROWID DESC`,
      )
        .safeIntegers(true)
        .raw(true)
        .all() as [bigint, ListingEntry["lastDate"]][];
      return rows.map(([rowid, last]) => ({ rowid: Number(rowid), lastDate: last }));
    });
  }

  /** The handle ROWIDs of each chat's participants, in ROWID order: one statement for all listed chats. */
  private participantRowids(chatRowids: number[]): Map<number, number[]> {
    const result = new Map<number, number[]>();
    const rows = this.statement(
      `SELECT chat_id, handle_id FROM chat_handle_join
       WHERE chat_id IN (SELECT value FROM json_each(?)) ORDER BY chat_id, handle_id`,
    ).all(JSON.stringify(chatRowids)) as { chat_id: number; handle_id: number }[];
    for (const r of rows) {
      const list = result.get(r.chat_id);
      if (list) list.push(r.handle_id);
      else result.set(r.chat_id, [r.handle_id]);
    }
    return result;
  }

  /**
   * Each chat's newest message, exactly as `getMessages({ chatRowids: [chat], limit: 1 })` reads it, for all
   * listed chats at once: the same streams (one step down each chat's (chat_id, message_date) index per date
   * encoding, plus its rows with an unset join date) in one statement, the newest position per chat chosen
   * here, and one hydrate for all. One read per chat cost about 0.8 ms each, mostly per-call overhead.
   */
  private lastMessages(chatRowids: number[]): Map<number, Message> {
    if (chatRowids.length === 0) return new Map();
    const joinDate = hasColumn(this.schema, "chat_message_join", "message_date");
    const date = joinDate ? "j.message_date" : "m.date";
    const ids = JSON.stringify(chatRowids);
    const selects: string[] = [];
    const params: unknown[] = [];
    for (const range of dateRanges({})) {
      const clauses = [this.notTapback, "j.chat_id = ids.value"];
      if (joinDate) clauses.push("j.message_date <> 0");
      if (range.low !== null) clauses.push(`${date} >= ${range.low}`);
      if (range.high !== null) clauses.push(`${date} <= ${range.high}`);
      // The subquery's j and m shadow the outer ones: it is readOrdered's one-row read for the chat ids.value.
      selects.push(
        `SELECT ${this.orderedColumns("message", true, date)} FROM json_each(?) ids
         CROSS JOIN chat_message_join j ON j.chat_id = ids.value AND j.message_id = (
           SELECT j.message_id FROM chat_message_join j CROSS JOIN message m ON m.ROWID = j.message_id
           WHERE ${clauses.join(" AND ")} ORDER BY ${date} DESC, j.message_id DESC LIMIT 1)
         CROSS JOIN message m ON m.ROWID = j.message_id`,
      );
      params.push(ids);
    }
    if (joinDate) {
      const window = windowClause({}, MESSAGE_FILTER_COLUMNS);
      selects.push(
        `SELECT ${this.orderedColumns("message", true, "m.date")}
         FROM chat_message_join j CROSS JOIN message m ON m.ROWID = j.message_id
         WHERE ${this.notTapback} AND ${window.clause}
           AND j.chat_id IN (SELECT value FROM json_each(?)) AND j.message_date = 0`,
      );
      params.push(...window.params, ids);
    }
    const rows = rowObjects<MessageRow>(this.statement(selects.join(" UNION ALL ")), params);
    const newest = new Map<number, { row: MessageRow; position: Position }>();
    for (const row of rows) {
      if (row.chat_id === null || dateKey(row.sort_date) === null) continue;
      const position = rowPosition(row.sort_date, row.ROWID);
      const best = newest.get(row.chat_id);
      if (!best || comparePositions(position, best.position) > 0) newest.set(row.chat_id, { row, position });
    }
    const messages = this.hydrate([...newest.values()].map((n) => n.row));
    return new Map(messages.map((m) => [m.chatRowid as number, m]));
  }

  /**
   * Messages in each chat. Counting means reading the chat's whole slice of chat_message_join (52,000 rows for
   * a long chat at 1M messages), so a chat is counted once per process and afterwards only its new rows are
   * added: new messages get higher ROWIDs, which the (chat_id, message_id) primary key finds directly.
   * Any deletion starts again from a full count (see deletionMark). One statement for all listed chats, and
   * none while chat.db's data_version is what it was when they were last counted (nothing was added).
   */
  private messageCounts(chatRowids: number[], version: number): Map<number, number> {
    const deletions = this.deletions.get(version, () => this.deletionMark());
    if (deletions !== this.countsDeletionMark) {
      this.counts.clear();
      this.countsDeletionMark = deletions;
    }
    const stale = chatRowids.filter((id) => this.counts.get(id)?.version !== version);
    if (stale.length > 0) {
      const since = stale.map((id): [number, number] => [id, this.counts.get(id)?.lastMessageId ?? -1]);
      // Two correlated subqueries per chat, not a join grouped by chat: grouping would sort every counted row.
      const newer = "FROM chat_message_join WHERE chat_id = c.value ->> 0 AND message_id > c.value ->> 1";
      const added = this.statement(
        `SELECT (SELECT COUNT(*) ${newer}) AS n, (SELECT MAX(message_id) ${newer}) AS last FROM json_each(?) c`,
      ).all(JSON.stringify(since)) as { n: number; last: number | null }[];
      since.forEach(([chatRowid, after], i) => {
        const count = (this.counts.get(chatRowid)?.count ?? 0) + (added[i]?.n ?? 0);
        this.counts.set(chatRowid, { count, lastMessageId: added[i]?.last ?? after, version });
      });
    }
    return new Map(chatRowids.map((id) => [id, this.counts.get(id)?.count ?? 0]));
  }

  /**
   * Changes whenever Messages deletes or restores a message: a deletion adds a row to deleted_messages
   * (Apple's trigger; AUTOINCREMENT, so its sequence only grows); a move to Recently Deleted, or a restore
   * from it, changes chat_recoverable_message_join, which holds only the last 30 days' deletions.
   */
  private deletionMark(): string {
    const parts: unknown[] = [];
    if (this.schema.tables.has("deleted_messages") && this.schema.tables.has("sqlite_sequence")) {
      parts.push(
        this.statement("SELECT seq FROM sqlite_sequence WHERE name = 'deleted_messages'").pluck().get(),
      );
    }
    if (this.schema.tables.has("chat_recoverable_message_join")) {
      const recoverable = this.statement(
        "SELECT COUNT(*) AS n, MAX(ROWID) AS last, TOTAL(message_id) AS ids FROM chat_recoverable_message_join",
      ).get() as { n: number; last: number | null; ids: number };
      parts.push(`${recoverable.n}/${recoverable.last}/${recoverable.ids}`);
    }
    // Without either table a deletion cannot be noticed: count afresh every time, as exact as before.
    return parts.length === 2 ? parts.join(":") : `unknown:${this.deletionCalls++}`;
  }

  /**
   * Unread incoming messages per chat; uses Messages' own (is_read, is_from_me, …) index. Kept while chat.db's
   * data_version is unchanged: reading a message commits, so the counts follow.
   */
  private unreadCountsByChat(version: number): Map<number, number> {
    if (!hasColumn(this.schema, "message", "is_read")) return new Map();
    return this.unread.get(version, () => {
      const itemType = hasColumn(this.schema, "message", "item_type") ? "AND m.item_type = 0" : "";
      const rows = this.statement(
        `SELECT cmj.chat_id AS chat_id, COUNT(*) AS n FROM message m
         JOIN chat_message_join cmj ON cmj.message_id = m.ROWID
         WHERE m.is_read = 0 AND m.is_from_me = 0 ${itemType} AND ${this.notTapback}
         GROUP BY cmj.chat_id`,
      ).all() as { chat_id: number; n: number }[];
      return new Map(rows.map((r) => [r.chat_id, r.n]));
    });
  }

  // ---- messages ------------------------------------------------------------------------------

  private buildMessageFilter(query: MessageFilter, unreadOnly: boolean) {
    const filter = messageFilterClauses(query, MESSAGE_FILTER_COLUMNS);
    const clauses = [this.notTapback, ...filter.clauses];
    const params = filter.params;
    if (unreadOnly && hasColumn(this.schema, "message", "is_read")) {
      clauses.push("m.is_read = 0 AND m.is_from_me = 0");
    }
    return { where: clauses.join(" AND "), params };
  }

  getMessages(query: MessageQuery): Message[] {
    return this.run(() => {
      const limit = Math.max(0, Math.floor(query.limit));
      if (limit === 0) return [];
      if (query.afterRowid !== undefined) return this.messagesAfterRowid(query, query.afterRowid, limit);
      const rows = this.dateOrder(query, "message", limit).take(limit) as MessageRow[];
      return this.hydrate(rows);
    });
  }

  /**
   * Polling ("what arrived since"): the first `limit` rows above a ROWID in arrival order — through the primary
   * key, or chat_message_join's (chat_id, message_id) key — then in date order.
   */
  private messagesAfterRowid(query: MessageQuery, afterRowid: number, limit: number): Message[] {
    const { chatRowids, cursor: _cursor, ...rest } = query;
    const { where, params } = this.buildMessageFilter(rest, query.unreadOnly ?? false);
    let rows: MessageRow[];
    if (chatRowids && chatRowids.length > 0) {
      rows = this.statement(
        `SELECT ${this.chatMessageSelect} FROM chat_message_join j CROSS JOIN message m ON m.ROWID = j.message_id
         WHERE ${where} AND j.chat_id IN (${placeholders(chatRowids)}) AND j.message_id > ?
         ORDER BY j.message_id LIMIT ${BOUND_LIMIT}`,
      ).all(...params, ...chatRowids, afterRowid, limit) as MessageRow[];
    } else {
      rows = this.statement(
        `SELECT ${this.messageSelect} FROM message m WHERE ${where} ORDER BY m.ROWID LIMIT ${BOUND_LIMIT}`,
      ).all(...params, limit) as MessageRow[];
    }
    const unique = [...new Map(rows.map((r) => [r.ROWID, r])).values()];
    const positioned = unique.map((row) => ({ row, position: rowPosition(row.sort_date, row.ROWID) }));
    positioned.sort((a, b) => comparePositionsIn(query.order ?? "desc", a.position, b.position));
    return this.hydrate(positioned.map((p) => p.row));
  }

  /** Where a read walks: each chat, else each handle, else all messages; times each date encoding. */
  private orderStreams(
    query: Pick<MessageQuery, "since" | "until" | "chatRowids" | "handleRowids">,
  ): OrderStream[] {
    const sources: OrderSource[] =
      query.chatRowids && query.chatRowids.length > 0
        ? [...new Set(query.chatRowids)].map((rowid) => ({ kind: "chat", rowid }))
        : query.handleRowids && query.handleRowids.length > 0
          ? [...new Set(query.handleRowids)].map((rowid) => ({ kind: "handle", rowid }))
          : [{ kind: "all" }];
    const ranges = dateRanges(query);
    const joinDate = hasColumn(this.schema, "chat_message_join", "message_date");
    return sources.flatMap((source) => {
      const streams = ranges.map((range): OrderStream => ({ source, range }));
      const all: DateRange = { low: null, high: null, scale: 1n };
      if (source.kind === "chat" && joinDate) streams.push({ source, range: all, unsetJoinDate: true });
      return streams;
    });
  }

  /**
   * Rows in date order (see date-order.ts): one index range per source and date encoding, merged. Filters
   * other than the window and the sources (tapbacks, unread, a handle within a chat) are checked per row.
   */
  private dateOrder(
    query: Omit<MessageQuery, "limit">,
    select: OrderSelect,
    firstBatch: number,
  ): MergedDateOrder<OrderStream, (MessageRow | SearchableRow) & { position: Position }> {
    const direction = query.order === "asc" ? "asc" : "desc";
    let start: Position | null = null;
    if (query.cursor !== undefined) {
      start = decodePosition(query.cursor);
      if (!start) throw new RangeError("MessageQuery.cursor is not a Message.position");
    }
    const byChat = query.chatRowids !== undefined && query.chatRowids.length > 0;
    const filter = this.buildMessageFilter(
      { handleRowids: byChat ? query.handleRowids : undefined },
      query.unreadOnly ?? false,
    );
    const window = windowClause(query, MESSAGE_FILTER_COLUMNS);
    const streams = this.orderStreams(query);
    // A page may come from one source or from several (a person's iMessage and SMS handles): each source's
    // first batch is its share of the page, and take() reads further only as far as the page still needs.
    // Reading every source's full page first read about twice the rows a two-handle person's page shows.
    const sourceCount = new Set(streams.map((stream) => stream.source)).size;
    return new MergedDateOrder(
      streams,
      direction,
      (stream, n, after) => {
        const position = after ?? start;
        if (stream.unsetJoinDate) {
          return this.readUnsetJoinDates(stream, position, direction, select, filter, window, n);
        }
        let range: DateRange | null = stream.range;
        let tie: { date: bigint; rowid: number } | null = null;
        if (position) {
          const beyond = rangeBeyond(stream.range, position, direction);
          if (!beyond) return [];
          range = beyond.range;
          tie = beyond.tie;
        }
        return this.readOrdered(stream.source, range, tie, direction, select, filter, n);
      },
      Math.ceil(firstBatch / Math.max(1, sourceCount)),
    );
  }

  private orderedColumns(select: OrderSelect, byJoin: boolean, sortDate: string): string {
    if (select === "searchable") {
      return `m.ROWID AS ROWID, m.text AS text, ${columnOrNull(this.schema, "message", "m", "attributedBody")}, CAST(${sortDate} AS TEXT) AS sort_date`;
    }
    const chat = byJoin
      ? "j.chat_id"
      : "(SELECT cmj.chat_id FROM chat_message_join cmj WHERE cmj.message_id = m.ROWID LIMIT 1)";
    return `${this.messageColumns}, ${chat} AS chat_id, CAST(${sortDate} AS TEXT) AS sort_date`;
  }

  /** A page read's columns: orderedColumns' for a message, its sparse columns replaced by one flag (see readRows). */
  private pageColumns(select: OrderSelect, byJoin: boolean, sortDate: string): string {
    const columns = this.orderedColumns(select, byJoin, sortDate);
    if (select === "searchable" || !this.sparse) return columns;
    // orderedColumns joins plain `m.col AS col` items with ", " (none of its expressions holds one).
    const kept = columns.split(", ").filter((c) => !this.sparse?.selected.has(c));
    return `${kept.join(", ")}, ${this.sparse.flag}`;
  }

  /**
   * A page read's rows as objects. Better-sqlite3 on Node 20 stores each value of a row into its array one
   * element at a time (about 1,100 instructions each, NULLs included: 16% of a page's work with 28 columns), so
   * the columns that are at their default on nearly every row are not read: one flag says which rows hold
   * anything else, and only those rows' sparse columns are looked up. Rows come out as orderedColumns' would.
   */
  private readRows<T extends MessageRow | SearchableRow>(
    statement: Statement,
    params: readonly unknown[],
    select: OrderSelect,
  ): T[] {
    const sparse = this.sparse;
    if (select === "searchable" || !sparse) return rowObjects<T>(statement, params);
    const { make, flag } = sparseRowFactory(statement, sparse);
    const values = rawRows(statement, params);
    const rows = values.map(make);
    const others = rows.filter((_row, i) => values[i]?.[flag] !== null);
    for (const chunk of chunks(others, 900)) {
      const list = inList(chunk.map((row) => row.ROWID));
      const found = rowObjects<Record<string, unknown>>(
        this.lookup(
          `SELECT m.ROWID AS ROWID, ${sparse.lookup} FROM message m WHERE m.ROWID IN (${list.sql})`,
        ),
        list.params,
      );
      const byRowid = new Map(found.map((row) => [row.ROWID, row]));
      for (const row of chunk) {
        const stored = byRowid.get(row.ROWID);
        if (stored) for (const name of sparse.names) row[name] = stored[name];
      }
    }
    return rows as unknown as T[];
  }

  /** One batch of one ordered stream: a single index range, in index order. */
  private readOrdered(
    source: OrderSource,
    range: DateRange,
    tie: { date: bigint; rowid: number } | null,
    direction: "asc" | "desc",
    select: OrderSelect,
    filter: { where: string; params: unknown[] },
    limit: number,
  ): ((MessageRow | SearchableRow) & { position: Position })[] {
    const byJoin = source.kind === "chat";
    const joinDate = hasColumn(this.schema, "chat_message_join", "message_date");
    // chat_message_join.message_date (kept equal to message.date by Apple's trigger) makes a chat's page an
    // index walk; old schemas lack the column (then the chat's rows are sorted, as they must be).
    const date = byJoin && joinDate ? "j.message_date" : "m.date";
    const rowid = byJoin ? "j.message_id" : "m.ROWID";
    const clauses = [filter.where];
    const params: unknown[] = [...filter.params];
    if (source.kind === "chat") {
      clauses.push("j.chat_id = ?");
      params.push(source.rowid);
      if (joinDate) clauses.push("j.message_date <> 0");
    } else if (source.kind === "handle") {
      clauses.push("m.handle_id = ?");
      params.push(source.rowid);
    }
    if (range.low !== null) {
      clauses.push(`${date} >= ?`);
      params.push(range.low);
    }
    if (range.high !== null) {
      clauses.push(`${date} <= ?`);
      params.push(range.high);
    }
    if (tie) {
      clauses.push(`(${date} <> ? OR ${rowid} ${direction === "desc" ? "<" : ">"} ?)`);
      params.push(tie.date, tie.rowid);
    }
    const from = byJoin ? "chat_message_join j CROSS JOIN message m ON m.ROWID = j.message_id" : "message m";
    const order = direction === "desc" ? "DESC" : "ASC";
    const rows = this.readRows<MessageRow | SearchableRow>(
      this.statement(
        `SELECT ${this.pageColumns(select, byJoin, date)} FROM ${from} WHERE ${clauses.join(" AND ")}
         ORDER BY ${date} ${order}, ${rowid} ${order} LIMIT ${BOUND_LIMIT}`,
      ),
      [...params, limit],
      select,
    );
    return rows.map((row) => Object.assign(row, { position: rowPosition(row.sort_date, row.ROWID) }));
  }

  /** A chat's rows whose join date is unset, ordered by message.date's key (sorted: there are few). */
  private readUnsetJoinDates(
    stream: OrderStream,
    position: Position | null,
    direction: "asc" | "desc",
    select: OrderSelect,
    filter: { where: string; params: unknown[] },
    window: { clause: string; params: unknown[] },
    limit: number,
  ): ((MessageRow | SearchableRow) & { position: Position })[] {
    const rows = this.readRows<MessageRow | SearchableRow>(
      this.statement(
        `SELECT ${this.pageColumns(select, true, "m.date")}
         FROM chat_message_join j CROSS JOIN message m ON m.ROWID = j.message_id
         WHERE ${filter.where} AND ${window.clause} AND j.chat_id = ? AND j.message_date = 0`,
      ),
      [...filter.params, ...window.params, stream.source.kind === "chat" ? stream.source.rowid : 0],
      select,
    );
    const positioned = rows
      .map((row) => Object.assign(row, { position: rowPosition(row.sort_date, row.ROWID) }))
      .filter((row) => {
        if (dateKey(row.sort_date) === null) return false;
        if (!position) return true;
        const order = comparePositions(row.position, position);
        return direction === "desc" ? order < 0 : order > 0;
      });
    positioned.sort((a, b) => comparePositionsIn(direction, a.position, b.position));
    return positioned.slice(0, limit);
  }

  getMessage(ref: number | string): Message | null {
    return this.run(() => {
      const column = typeof ref === "number" ? "m.ROWID" : "m.guid";
      const row = this.statement(`SELECT ${this.messageSelect} FROM message m WHERE ${column} = ?`).get(
        ref,
      ) as MessageRow | undefined;
      return row ? (this.hydrate([row])[0] ?? null) : null;
    });
  }

  searchMessages(query: SearchQuery): Message[] {
    const matcher = createTextMatcher(query.text, query.mode);
    if (matcher.needle.trim().length === 0) return [];
    return this.run(() => {
      const limit = Math.max(0, Math.floor(query.limit));
      if (limit === 0) return [];
      // A linear scan in date order: `text` is often NULL since Ventura, so SQL LIKE alone would miss most
      // rows. Only the cheap columns are read here; matches are hydrated afterwards.
      const hits: { rowid: number; position: Position }[] = [];
      const matches = (row: SearchableRow) => {
        const text = searchableText(row.text, row.attributedBody);
        return text !== null && matcher.matches(text);
      };
      if (query.afterRowid !== undefined) {
        const { cursor: _cursor, ...filter } = query;
        const { where, params } = this.buildMessageFilter(filter, false);
        for (const row of this.statement(
          `SELECT m.ROWID AS ROWID, m.text AS text, ${columnOrNull(this.schema, "message", "m", "attributedBody")}, CAST(m.date AS TEXT) AS sort_date
           FROM message m WHERE ${where} ORDER BY m.ROWID`,
        ).iterate(...params) as Iterable<SearchableRow>) {
          if (!matches(row)) continue;
          hits.push({ rowid: row.ROWID, position: rowPosition(row.sort_date, row.ROWID) });
          if (hits.length >= limit) break;
        }
        hits.sort((a, b) => comparePositionsIn(query.order ?? "desc", a.position, b.position));
      } else {
        const order = this.dateOrder(query, "searchable", 256);
        for (let row = order.next(); row !== undefined; row = order.next()) {
          if (!matches(row as SearchableRow)) continue;
          hits.push({ rowid: row.ROWID, position: row.position });
          if (hits.length >= limit) break;
        }
      }
      return this.getMessagesByRowids(hits.map((h) => h.rowid));
    });
  }

  /**
   * Search over the rows above a ROWID only, newest ROWIDs first, reading at most `maxRows` of them: the bounded
   * look at what the search index has not reached while it builds. Matches come in date order, at most
   * `query.limit`; `complete` says whether every row above the ROWID was read, `unread` about how many were not.
   */
  searchAbove(
    query: SearchQuery,
    aboveRowid: number,
    maxRows: number,
    /** performance.now() after which no more rows are read (checked every 512 rows). */
    deadline = Number.POSITIVE_INFINITY,
  ): { messages: Message[]; complete: boolean; scanned: number; unread: number } {
    const matcher = createTextMatcher(query.text, query.mode);
    const limit = Math.max(0, Math.floor(query.limit));
    if (matcher.needle.trim().length === 0 || limit === 0) {
      return { messages: [], complete: true, scanned: 0, unread: 0 };
    }
    return this.run(() => {
      const { cursor, ...filter } = query;
      const start = cursor === undefined ? null : decodePosition(cursor);
      if (cursor !== undefined && !start)
        throw new RangeError("SearchQuery.cursor is not a Message.position");
      const direction = query.order === "asc" ? "asc" : "desc";
      const { where, params } = this.buildMessageFilter(filter, false);
      const rows = this.statement(
        `SELECT m.ROWID AS ROWID, m.text AS text, ${columnOrNull(this.schema, "message", "m", "attributedBody")}, CAST(m.date AS TEXT) AS sort_date
         FROM message m WHERE m.ROWID > ? AND ${where} ORDER BY m.ROWID DESC`,
      );
      const hits: { rowid: number; position: Position }[] = [];
      let scanned = 0;
      let lowest = Number.POSITIVE_INFINITY;
      let complete = true;
      for (const row of rows.iterate(aboveRowid, ...params) as Iterable<SearchableRow>) {
        if (scanned >= maxRows || (scanned % 512 === 0 && scanned > 0 && performance.now() > deadline)) {
          complete = false;
          break;
        }
        scanned++;
        lowest = row.ROWID;
        if (dateKey(row.sort_date) === null) continue;
        const position = rowPosition(row.sort_date, row.ROWID);
        if (start) {
          const order = comparePositions(position, start);
          if (direction === "desc" ? order >= 0 : order <= 0) continue;
        }
        const text = searchableText(row.text, row.attributedBody);
        if (text !== null && matcher.matches(text)) hits.push({ rowid: row.ROWID, position });
      }
      hits.sort((a, b) => comparePositionsIn(direction, a.position, b.position));
      // ROWIDs are nearly dense, so their span is the count: counting exactly would read the whole range.
      const unread = complete ? 0 : Math.max(0, lowest - aboveRowid - 1);
      const messages = this.getMessagesByRowids(hits.slice(0, limit).map((h) => h.rowid));
      return { messages, complete, scanned, unread };
    });
  }

  /** Full messages for these ROWIDs, in the order given (used by search and the index). */
  getMessagesByRowids(rowids: number[]): Message[] {
    if (rowids.length === 0) return [];
    return this.run(() => {
      // Like a page's other look-ups: IN lists of a few prepared lengths, rows keyed by rowObjects.
      const rows: MessageRow[] = [];
      for (const chunk of chunks(rowids, 900)) {
        const list = inList(chunk);
        const sql = `SELECT ${this.messageSelect} FROM message m WHERE m.ROWID IN (${list.sql})`;
        rows.push(...rowObjects<MessageRow>(this.lookup(sql), list.params));
      }
      const byId = new Map(this.hydrate(rows).map((m) => [m.rowid, m]));
      return rowids.map((id) => byId.get(id)).filter((m): m is Message => m !== undefined);
    });
  }

  private hydrate(rows: MessageRow[]): Message[] {
    if (rows.length === 0) return [];
    const attachments = this.attachmentsFor(
      rows.filter((r) => r.cache_has_attachments !== 0).map((r) => r.ROWID),
    );
    const tapbacks = this.tapbacksFor(rows);
    const context: RowContext = {
      handle: (rowid: number | null | undefined) => this.handle(rowid),
      replyTargets: this.replyTargetsFor(rows),
      blobs: this.blobs,
    };
    return rows.map((row) =>
      messageFromRow(
        row,
        attachments.get(row.ROWID) ?? [],
        tapbacks.get(row.guid) ?? [],
        context,
        encodePosition(rowPosition(row.sort_date, row.ROWID)),
      ),
    );
  }

  /** The messages these rows reply to, looked up in one query: ROWID and first words. */
  private replyTargetsFor(rows: MessageRow[]): Map<string, ReplyTarget> {
    const result = new Map<string, ReplyTarget>();
    const guids = [...new Set(rows.map((r) => r.thread_originator_guid).filter((g): g is string => !!g))];
    for (const chunk of chunks(guids, 900)) {
      const list = inList(chunk);
      const found = rowObjects<Pick<MessageRow, "ROWID" | "guid" | "text" | "attributedBody">>(
        this.lookup(
          `SELECT m.ROWID AS ROWID, m.guid AS guid, m.text AS text, ${columnOrNull(this.schema, "message", "m", "attributedBody")}
         FROM message m WHERE m.guid IN (${list.sql})`,
        ),
        list.params,
      );
      for (const r of found)
        result.set(r.guid, { guid: r.guid, rowid: r.ROWID, preview: previewOf(rowText(r)) });
    }
    return result;
  }

  /**
   * The reaction events of these messages, by guid: those of messages read since chat.db last changed are kept
   * (`reactions`), the others looked up.
   */
  private tapbacksFor(rows: MessageRow[]): ReadonlyMap<string, readonly TapbackEvent[]> {
    if (!hasColumn(this.schema, "message", "associated_message_guid")) return new Map();
    const kept = this.reactions.get(this.dataVersion(), () => new Map());
    let unread = rows.filter((r) => !kept.has(r.guid));
    if (unread.length === 0) return kept;
    if (kept.size + unread.length > MAX_KEPT_REACTIONS) {
      kept.clear();
      unread = rows;
    }
    const found = this.readTapbacks(unread);
    for (const row of unread) kept.set(row.guid, found.get(row.guid) ?? NO_REACTIONS);
    return kept;
  }

  private readTapbacks(rows: MessageRow[]): Map<string, TapbackEvent[]> {
    const result = new Map<string, TapbackEvent[]>();
    const forms = rows.flatMap((r) =>
      associatedGuidForms(
        r.guid,
        Math.max(r.part_count ?? 1, countObjectReplacements(textColumn(r.text)) + 1),
      ),
    );
    // Chunked to stay far below SQLite's bound-parameter limit.
    for (const chunk of chunks(forms, 900)) {
      const list = inList(chunk);
      const reactions = this.lookup(
        `SELECT m.associated_message_guid AS target, m.associated_message_type AS type,
                ${columnOrNull(this.schema, "message", "m", "associated_message_emoji")},
                m.is_from_me AS is_from_me, m.handle_id AS handle_id, m.date AS date
         FROM message m WHERE m.associated_message_guid IN (${list.sql})`,
      ).all(...list.params) as {
        target: string;
        type: number;
        associated_message_emoji: string | null;
        is_from_me: number;
        handle_id: number;
        date: number | bigint;
      }[];
      for (const r of reactions) {
        if (!isTapbackType(r.type)) continue;
        const target = parseAssociatedGuid(r.target);
        const list = result.get(target.guid) ?? [];
        list.push({
          type: r.type,
          emoji: r.associated_message_emoji,
          isFromMe: r.is_from_me === 1,
          handle: this.handle(r.handle_id),
          date: appleNanosToDate(r.date) ?? new Date(0),
          part: target.part,
        });
        result.set(target.guid, list);
      }
    }
    return result;
  }

  private attachmentColumns(alias: string): string {
    const col = (c: string) => columnOrNull(this.schema, "attachment", alias, c);
    return [
      `${alias}.ROWID AS ROWID`,
      `${alias}.guid AS guid`,
      col("filename"),
      col("transfer_name"),
      col("mime_type"),
      col("uti"),
      col("total_bytes"),
      col("is_sticker"),
      col("emoji_image_short_description"),
      col("created_date"),
    ].join(", ");
  }

  private attachmentFromRow(row: AttachmentRow): Attachment {
    return {
      rowid: row.ROWID,
      guid: row.guid,
      path: resolveAttachmentPath(row.filename, this.path),
      name: row.transfer_name ?? (row.filename ? basename(row.filename) : null),
      mimeType: row.mime_type,
      uti: row.uti,
      sizeBytes: row.total_bytes ?? 0,
      isSticker: row.is_sticker === 1,
      imageDescription: row.emoji_image_short_description || null,
      createdAt: appleNanosToDate(row.created_date),
    };
  }

  private attachmentsFor(messageRowids: number[]): Map<number, Attachment[]> {
    const result = new Map<number, Attachment[]>();
    if (messageRowids.length === 0 || !this.hasAttachmentTables) return result;
    for (const chunk of chunks(messageRowids, 900)) {
      const list = inList(chunk);
      const rows = rowObjects<AttachmentRow & { message_id: number }>(
        this.lookup(
          `SELECT j.message_id AS message_id, ${this.attachmentColumns("a")}
         FROM message_attachment_join j JOIN attachment a ON a.ROWID = j.attachment_id
         WHERE j.message_id IN (${list.sql}) ORDER BY a.ROWID`,
        ),
        list.params,
      );
      for (const row of rows) {
        const list = result.get(row.message_id) ?? [];
        list.push(this.attachmentFromRow(row));
        result.set(row.message_id, list);
      }
    }
    return result;
  }

  // ---- attachments ---------------------------------------------------------------------------

  private attachmentQuerySql(where: string): string {
    return `SELECT ${this.attachmentColumns("a")}, m.ROWID AS message_rowid, m.date AS message_date,
                   m.is_from_me AS is_from_me, m.handle_id AS handle_id,
                   (SELECT cmj.chat_id FROM chat_message_join cmj WHERE cmj.message_id = m.ROWID LIMIT 1) AS chat_id
            FROM attachment a
            JOIN message_attachment_join j ON j.attachment_id = a.ROWID
            JOIN message m ON m.ROWID = j.message_id
            WHERE ${where}`;
  }

  private attachmentWithMessage(
    row: AttachmentRow & {
      message_rowid: number;
      message_date: number | bigint;
      is_from_me: number;
      handle_id: number;
      chat_id: number | null;
    },
  ): AttachmentWithMessage {
    return {
      ...this.attachmentFromRow(row),
      messageRowid: row.message_rowid,
      messageDate: appleNanosToDate(row.message_date) ?? new Date(0),
      isFromMe: row.is_from_me === 1,
      handle: this.handle(row.handle_id),
      chatRowid: row.chat_id,
    };
  }

  getAttachment(rowid: number): AttachmentWithMessage | null {
    if (!this.hasAttachmentTables) return null;
    return this.run(() => {
      const row = this.statement(`${this.attachmentQuerySql("a.ROWID = ?")} LIMIT 1`).get(rowid) as
        | Parameters<MessagesStore["attachmentWithMessage"]>[0]
        | undefined;
      return row ? this.attachmentWithMessage(row) : null;
    });
  }

  searchAttachments(query: AttachmentQuery): AttachmentWithMessage[] {
    if (!this.hasAttachmentTables) return [];
    return this.run(() => {
      const { beforeRowid, ...messageFilter } = query;
      const { where, params } = this.buildMessageFilter(messageFilter, false);
      const clauses = [where];
      if (beforeRowid !== undefined) {
        clauses.push("a.ROWID < ?");
        params.push(beforeRowid);
      }
      if (query.mimePrefix) {
        clauses.push("a.mime_type LIKE ? ESCAPE '\\'");
        params.push(`${escapeLike(query.mimePrefix)}%`);
      }
      const rows = this.statement(
        `${this.attachmentQuerySql(clauses.join(" AND "))} ORDER BY a.ROWID DESC LIMIT ${BOUND_LIMIT}`,
      ).all(...params, query.limit) as Parameters<MessagesStore["attachmentWithMessage"]>[0][];
      return rows.map((r) => this.attachmentWithMessage(r));
    });
  }

  // ---- handles -------------------------------------------------------------------------------

  serviceHistory(handleId: string): { service: Service; lastUsed: Date | null; messageCount: number }[] {
    return this.run(() => {
      const rows = this.statement(
        `SELECT h.service AS service, MAX(m.date) AS last, COUNT(m.ROWID) AS n
         FROM handle h LEFT JOIN message m ON m.handle_id = h.ROWID
         WHERE h.id = ? COLLATE NOCASE GROUP BY h.service ORDER BY last DESC`,
      ).all(handleId) as { service: string; last: number | null; n: number }[];
      return rows.map((r) => ({ service: r.service, lastUsed: appleNanosToDate(r.last), messageCount: r.n }));
    });
  }
}

/** The columns search compares, with the date the row was ordered by. */
interface SearchableRow {
  ROWID: number;
  text: unknown;
  attributedBody: Buffer | null;
  sort_date: string | number | null;
}

const rowFactories = new WeakMap<Statement, (values: unknown[]) => Record<string, unknown>>();

/**
 * A statement's rows as objects keyed by column name, as `all()` returns them. Read as arrays and keyed here:
 * better-sqlite3 makes every column's name afresh on each call, which cost a page's read (28 columns) about
 * as much as reading its rows. Each row is one object literal made by a function written for the statement's
 * columns (keying a row column by column in a loop is a megamorphic store per value, slower than that read).
 */
function rowObjects<T>(statement: Statement, params: readonly unknown[]): T[] {
  let make = rowFactories.get(statement);
  if (!make) {
    make = rowLiteral(statement.columns().map((column, i) => [column.name, `values[${i}]`]));
    rowFactories.set(statement, make);
  }
  return rawRows(statement, params).map(make) as T[];
}

/**
 * A function that makes one object literal from a raw row (`values`): each field's name and the expression
 * giving its value. Written for a statement's columns once, so a row is keyed without a loop of keyed stores.
 */
function rowLiteral(
  fields: readonly (readonly [name: string, expression: string])[],
): (values: unknown[]) => Record<string, unknown> {
  const body = fields.map(([name, expression]) => `${JSON.stringify(name)}: ${expression}`).join(", ");
  return new Function("values", `return { ${body} };`) as (values: unknown[]) => Record<string, unknown>;
}

function rawRows(statement: Statement, params: readonly unknown[]): unknown[][] {
  try {
    return statement.raw(true).all(...params) as unknown[][];
  } finally {
    statement.raw(false);
  }
}

/**
 * Message columns at their default on nearly every row, with that default: 0 for the numbers (Apple's schema
 * declares them DEFAULT 0), NULL for the rest. A page's reads leave them out (see readRows).
 */
const SPARSE_COLUMNS: readonly [column: string, plain: 0 | null][] = [
  ["date_edited", 0],
  ["date_retracted", 0],
  ["subject", null],
  ["item_type", 0],
  ["group_title", null],
  ["group_action_type", 0],
  ["other_handle", 0],
  ["expressive_send_style_id", null],
  ["thread_originator_guid", null],
  ["message_summary_info", null],
  ["associated_message_guid", null],
  ["associated_message_type", 0],
  ["associated_message_emoji", null],
];

interface SparseColumns {
  /** The sparse columns this chat.db has, and their defaults. */
  names: string[];
  plain: Map<string, 0 | null>;
  /** Their select expressions (`m.subject AS subject`), as orderedColumns writes them. */
  selected: Set<string>;
  /** The flag column: NULL when every sparse column of the row holds exactly its default. */
  flag: string;
  /** The sparse columns for the look-up of the other rows. */
  lookup: string;
}

function sparseColumns(schema: SchemaInfo): SparseColumns | null {
  const present = SPARSE_COLUMNS.filter(([column]) => hasColumn(schema, "message", column));
  if (present.length === 0) return null;
  // Exactly the default: an integer 0 (a column declared TEXT may hold '0', equal to 0 there but read back as
  // text), or NULL.
  const plain = present.map(([column, value]) =>
    value === 0 ? `(typeof(m.${column}) = 'integer' AND m.${column} = 0)` : `m.${column} IS NULL`,
  );
  const selected = present.map(([column]) => columnOrNull(schema, "message", "m", column));
  return {
    names: present.map(([column]) => column),
    plain: new Map(present),
    selected: new Set(selected),
    flag: `CASE WHEN ${plain.join(" AND ")} THEN NULL ELSE 1 END AS sparse`,
    lookup: selected.join(", "),
  };
}

type SparseRowFactory = { make: (values: unknown[]) => Record<string, unknown>; flag: number };

const sparseFactories = new WeakMap<Statement, SparseRowFactory>();

/**
 * Rows of a page read (its sparse columns left out, its last column the flag) as objects with every column of
 * orderedColumns, in its order: the sparse ones at their defaults, so rows keep one shape.
 */
function sparseRowFactory(statement: Statement, sparse: SparseColumns): SparseRowFactory {
  let factory = sparseFactories.get(statement);
  if (!factory) {
    const read = statement.columns().map((column) => column.name);
    const index = new Map(read.map((name, i) => [name, i]));
    const order = [...MESSAGE_ROW_ORDER, "chat_id", "sort_date"].filter(
      (name) => index.has(name) || sparse.plain.has(name),
    );
    const fields = order.map((name): [string, string] => {
      const i = index.get(name);
      return [name, i === undefined ? String(sparse.plain.get(name)) : `values[${i}]`];
    });
    factory = { make: rowLiteral(fields), flag: read.length - 1 };
    sparseFactories.set(statement, factory);
  }
  return factory;
}

/**
 * Lengths of the IN lists a page's look-ups are prepared for (chunks hold at most 900 values). Powers of two,
 * because each NULL of the padding is bound and searched for too: a page of 50 looks up 102 reaction forms, and
 * padding them to 256 was a sixth of that look-up's instructions.
 */
const IN_LIST_SIZES = [16, 32, 64, 128, 256, 512, 900];

/**
 * `IN (…)` placeholders for `values`, padded with NULLs (which match nothing) to one of a few lengths: the
 * statement is then prepared once per length and cached, instead of once per page (preparing costs more
 * than running these look-ups).
 */
function inList(values: readonly unknown[]): { sql: string; params: unknown[] } {
  const size = IN_LIST_SIZES.find((n) => n >= values.length) ?? values.length;
  const params = [...values];
  while (params.length < size) params.push(null);
  return { sql: placeholders(params), params };
}

/** A row's place in date order; rows without a usable date sort as the oldest. */
function rowPosition(sortDate: string | number | null, rowid: number): Position {
  return { key: dateKey(sortDate) ?? -(2n ** 63n), rowid };
}

function comparePositionsIn(direction: "asc" | "desc", a: Position, b: Position): number {
  const order = comparePositions(a, b);
  return direction === "desc" ? -order : order;
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function countObjectReplacements(text: string | null): number {
  if (!text) return 0;
  let n = 0;
  for (const ch of text) if (ch === "\uFFFC") n++;
  return n;
}
