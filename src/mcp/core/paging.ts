// Page sizes and cursors: opaque to clients, validated on the way back in.
import { ToolInputError } from "./tool-result.js";

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/** Validated `limit` argument (the schema already bounds it; this keeps callers from other paths honest). */
export function clampLimit(limit: number | undefined, max: number = MAX_LIMIT): number {
  return Math.min(max, Math.max(1, Math.floor(limit ?? DEFAULT_LIMIT)));
}

/** Opaque to clients: base64url JSON, e.g. `{ "beforeRowid": 812 }`. */
export function encodeCursor(payload: Record<string, number | string>): string {
  return Buffer.from(JSON.stringify(payload), "utf8").toString("base64url");
}

function badCursor(): ToolInputError {
  return new ToolInputError(
    "That cursor is not valid: pass back the nextCursor value from the previous result unchanged, or leave it out to start from the newest.",
  );
}

/** The payload of a cursor made by encodeCursor, or a clear ToolInputError for anything else. */
function readCursor(cursor: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw badCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw badCursor();
  }
  if (parsed === null || typeof parsed !== "object") throw badCursor();
  return parsed as Record<string, unknown>;
}

/** Reads a cursor made by encodeCursor; anything else is a clear ToolInputError. */
export function decodeCursor(cursor: string, key: "beforeRowid" | "offset"): number {
  const value = readCursor(cursor)[key];
  const minimum = key === "offset" ? 0 : 1;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < minimum) throw badCursor();
  return value;
}

/** Reads a cursor made by positionPage: the message position (see Message.position) to continue after. */
export function decodePositionCursor(cursor: string): string {
  const value = readCursor(cursor).after;
  if (typeof value !== "string" || !/^-?\d{1,30}:\d{1,16}$/.test(value)) throw badCursor();
  return value;
}

/** A page cut from rows fetched with one look-ahead row, and the cursor made from its last row when there is more. */
interface Page<T> {
  page: T[];
  nextCursor: string | null;
}

function pageContinuingAfterLast<T>(
  found: readonly T[],
  limit: number,
  cursorFor: (last: T) => Record<string, number | string>,
): Page<T> {
  const page = found.slice(0, limit);
  const last = page[page.length - 1];
  return { page, nextCursor: found.length > limit && last ? encodeCursor(cursorFor(last)) : null };
}

/**
 * One date-ordered page of messages and the cursor that continues after its last message: its position in
 * date order, so the next page neither skips nor repeats a message when ROWID order and date order differ.
 */
export function positionPage<T extends { position: string }>(found: readonly T[], limit: number): Page<T> {
  return pageContinuingAfterLast(found, limit, (last) => ({ after: last.position }));
}

/** One newest-first page of `found` and the cursor that continues before its last row. */
export function rowidPage<T extends { rowid: number }>(found: readonly T[], limit: number): Page<T> {
  return pageContinuingAfterLast(found, limit, (last) => ({ beforeRowid: last.rowid }));
}

/** One page of an offset-paged list (fetched with one look-ahead row) and the cursor for the next. */
export function offsetPage<T>(found: readonly T[], limit: number, offset: number): Page<T> {
  return {
    page: found.slice(0, limit),
    nextCursor: found.length > limit ? encodeCursor({ offset: offset + limit }) : null,
  };
}

/** `\nMore chats: call again with cursor "…".` after a page that has a next one, else "". */
export function moreNote(what: string, nextCursor: string | null): string {
  return nextCursor ? `\nMore ${what}: call again with cursor "${nextCursor}".` : "";
}
