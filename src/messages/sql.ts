// SQLite plumbing shared by the chat.db store and the search index: the read-only connection to chat.db,
// cached prepared statements, bound-parameter lists, and the message filters both apply.
import BetterSqlite3, { type Database, type Statement } from "better-sqlite3";
import { clampToInt64, dateRanges, instantKey } from "./date-order.js";
import type { MessageQuery } from "./types.js";

/**
 * SQLite page cache of a chat.db connection, in KiB. better-sqlite3 builds SQLite with a 16 MB default, and the
 * server's connection filled it and kept it for the life of the process: one bounded scan during an index
 * build (60,000 rows) grew the main thread's malloc heap by 19 MB, and the page reads before it by 8 MB
 * (at 2 MB: 8 and 4 MB; docs/performance.md, peak RSS). A page read's pages fit: over 550 rounds of the
 * bench's warm calls (contact, chat, week, list_chats) SQLite read one page more from the OS cache every two
 * rounds than at 16 MB (strace's count of pread64).
 */
export const CHAT_DB_CACHE_KIB = 2048;

/**
 * Opens chat.db for reading only (never writes, so Messages is never disturbed) without `immutable`, so rows
 * still in chat.db-wal are visible. Messages.app writes while we read: wait briefly on a lock instead of failing.
 */
export function openChatDbReadOnly(path: string): Database {
  const db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma("query_only = ON");
    db.pragma("busy_timeout = 2000");
    db.pragma(`cache_size = -${CHAT_DB_CACHE_KIB}`);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** `sql → prepared statement`, prepared once per distinct SQL text. */
export function statementCache(db: Database): (sql: string) => Statement {
  const statements = new Map<string, Statement>();
  return (sql) => {
    let stmt = statements.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      statements.set(sql, stmt);
    }
    return stmt;
  };
}

/**
 * A bound LIMIT: `LIMIT ${BOUND_LIMIT}`. SQLite (3.47 and later) plans with the value bound to a bare `LIMIT ?`,
 * so every new binding expires the statement and its next run prepares it again: about 80 µs for an empty
 * page read and 160 µs for a 51-row one, as much as half of the read. `+?` is the same number when the
 * statement runs, but not a bare variable to the planner, so the prepared statement is kept.
 */
export const BOUND_LIMIT = "+?";

/** `?, ?, ?` for binding each value. */
export function placeholders(values: readonly unknown[]): string {
  return values.map(() => "?").join(", ");
}

/** Slices of at most `size`: keeps `IN (…)` lists far below SQLite's bound-parameter limit. */
export function* chunks<T>(values: T[], size: number): Generator<T[]> {
  for (let i = 0; i < values.length; i += size) yield values.slice(i, i + size);
}

export type MessageFilter = Pick<
  MessageQuery,
  "since" | "until" | "afterRowid" | "chatRowids" | "handleRowids"
>;

/** Where a table keeps what `MessageFilter` filters on. */
export interface FilterColumns {
  date: string;
  /**
   * "chat.db": `date` holds chat.db's own values (seconds or nanoseconds since 2001, see date-order.ts);
   * "key": it holds date keys (always nanoseconds), as the search index does.
   */
  dateEncoding: "chat.db" | "key";
  rowid: string;
  handle: string;
  /** A condition "the row belongs to one of these chats", given the placeholders of the chat ROWIDs. */
  inChats(placeholderList: string): string;
}

/**
 * The clauses (ANDed by the caller) and bound parameters of a message filter. chat.db and the search index
 * both build their filters here, so the index answers exactly what the scan does.
 */
export function messageFilterClauses(
  query: MessageFilter,
  columns: FilterColumns,
): { clauses: string[]; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (query.since || query.until) {
    const window = windowClause(query, columns);
    clauses.push(window.clause);
    params.push(...window.params);
  }
  if (query.afterRowid !== undefined) {
    clauses.push(`${columns.rowid} > ?`);
    params.push(query.afterRowid);
  }
  if (query.chatRowids && query.chatRowids.length > 0) {
    clauses.push(columns.inChats(placeholders(query.chatRowids)));
    params.push(...query.chatRowids);
  }
  if (query.handleRowids && query.handleRowids.length > 0) {
    clauses.push(`${columns.handle} IN (${placeholders(query.handleRowids)})`);
    params.push(...query.handleRowids);
  }
  return { clauses, params };
}

/**
 * "The row's date lies in [since, until)". On chat.db one range per date encoding, ORed (each a plain range
 * on the column, so SQLite can still use an index on it); on date keys a single range.
 */
export function windowClause(
  window: Pick<MessageQuery, "since" | "until">,
  columns: Pick<FilterColumns, "date" | "dateEncoding">,
): { clause: string; params: bigint[] } {
  if (columns.dateEncoding === "key") {
    const parts: string[] = [];
    const params: bigint[] = [];
    if (window.since) {
      parts.push(`${columns.date} >= ?`);
      params.push(clampToInt64(instantKey(window.since)));
    }
    if (window.until) {
      parts.push(`${columns.date} < ?`);
      params.push(clampToInt64(instantKey(window.until)));
    }
    return { clause: parts.length > 0 ? parts.join(" AND ") : "1", params };
  }
  const ranges = dateRanges(window);
  if (ranges.length === 0) return { clause: "0", params: [] };
  const params: bigint[] = [];
  const alternatives = ranges.map((range) => {
    const parts: string[] = [];
    if (range.low !== null) {
      parts.push(`${columns.date} >= ?`);
      params.push(range.low);
    }
    if (range.high !== null) {
      parts.push(`${columns.date} <= ?`);
      params.push(range.high);
    }
    return parts.length > 0 ? `(${parts.join(" AND ")})` : "1";
  });
  return { clause: `(${alternatives.join(" OR ")})`, params };
}
