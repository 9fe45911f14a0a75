// get_recent_messages: the newest messages, or a window, with a person or in a chat; or one message whole.

import { z } from "zod";
import type { MessageQuery } from "../../messages/types.js";
import { parseDateWindow } from "../../util/dates.js";
import {
  chatInput,
  contactInput,
  cursorInput,
  dateWindowInput,
  messagePageShape,
  timezoneInput,
} from "../core/input-schemas.js";
import { noMessages, pageText } from "../core/message-page.js";
import { clampLimit, DEFAULT_LIMIT, decodePositionCursor, positionPage } from "../core/paging.js";
import { resolveConversationFilter } from "../core/resolve-references.js";
import { ToolContext } from "../core/tool-context.js";
import { guard, okResult, ToolInputError } from "../core/tool-result.js";
import { renderMessagePage } from "../render-messages.js";
import { TEXT_CAPS } from "../render-truncate.js";
import { defineTool } from "../tool-definition.js";

const HOUR_MS = 3_600_000;
/** Twenty years: effectively "all history", while keeping the date arithmetic sane. */
const MAX_HOURS = 24 * 366 * 20;

/** get_recent_messages pages can be larger than other tools': polling clients catch up in fewer calls. */
export const MAX_RECENT_LIMIT = 1000;
/** Skipping is a walk over the rows before the page, so it is bounded; the cursor reaches further. */
export const MAX_OFFSET = 10_000;
const SKIP_BATCH = 1000;

interface RecentWindow {
  since?: Date;
  until?: Date;
  /** "from the last 24 hours", "from 2025-03-01 to 2025-03-02", "" for no time limit. */
  description: string;
}

/**
 * The time window of get_recent_messages: start_date/end_date when given (in the call's zone, see
 * util/dates.ts; hours then counts back from end_date when there is no start_date), else the last `hours`.
 * With since_rowid and no time argument there is no window at all: polling wants everything newer,
 * however old the wait.
 */
function recentWindow(
  args: {
    hours?: number | undefined;
    start_date?: string | undefined;
    end_date?: string | undefined;
    since_rowid?: number | undefined;
  },
  timeZone: string,
): RecentWindow {
  const window = parseDateWindow(args, timeZone);
  if (window.start && args.hours !== undefined) {
    throw new ToolInputError(
      "Give either hours or start_date, not both: start_date already says how far back.",
    );
  }
  if (window.start) return { since: window.start, until: window.end, description: window.description };
  if (args.since_rowid !== undefined && args.hours === undefined && !window.end) return { description: "" };
  const hours = args.hours ?? 24;
  const span = `${hours} hour${hours === 1 ? "" : "s"}`;
  if (window.end) {
    return {
      since: new Date(window.end.getTime() - hours * HOUR_MS),
      until: window.end,
      description: `from the ${span} up to ${args.end_date?.trim()}`,
    };
  }
  return { since: new Date(Date.now() - hours * HOUR_MS), description: `from the last ${span}` };
}

/**
 * Where the page starts after skipping `offset` messages of `query` (same order), as a cursor (a position in
 * date order) or, when polling, a ROWID bound. null: fewer than `offset` messages, so the page is empty.
 */
function skipMessages(
  ctx: ToolContext,
  query: Omit<MessageQuery, "limit">,
  offset: number,
): Pick<MessageQuery, "cursor" | "afterRowid"> | null {
  const polling = query.afterRowid !== undefined;
  let bound: Pick<MessageQuery, "cursor" | "afterRowid"> = {
    cursor: query.cursor,
    afterRowid: query.afterRowid,
  };
  let left = offset;
  while (left > 0) {
    const batch = ctx.messages.getMessages({ ...query, ...bound, limit: Math.min(SKIP_BATCH, left) });
    if (batch.length === 0) return null;
    bound = polling
      ? { ...bound, afterRowid: Math.max(...batch.map((m) => m.rowid)) }
      : { ...bound, cursor: batch[batch.length - 1]?.position };
    left -= batch.length;
    if (left > 0 && batch.length < SKIP_BATCH) return null;
  }
  return bound;
}

const getRecentMessagesTool = {
  title: "Get recent messages",
  description:
    "Read a conversation or catch up: messages from the last hours or a date range, with one person, in one chat, or only unread ones, newest first. Use search_messages instead to find messages by their words, and since_rowid to poll for what is new.",
  inputSchema: {
    hours: z
      .number()
      .positive()
      .max(MAX_HOURS)
      .optional()
      .describe("Hours back (default 24; from end_date if given; not with start_date)."),
    ...dateWindowInput,
    contact: contactInput,
    chat: chatInput,
    unread_only: z.boolean().optional().describe("Only incoming messages not yet read."),
    since_rowid: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Only ids above this (a message id or latestRowid), oldest first."),
    offset: z
      .number()
      .int()
      .min(0)
      .max(MAX_OFFSET)
      .optional()
      .describe(`Skip this many first (at most ${MAX_OFFSET}; not with cursor).`),
    limit: z
      .number()
      .int()
      .min(1)
      .max(MAX_RECENT_LIMIT)
      .optional()
      .describe(`How many to return (default ${DEFAULT_LIMIT}, at most ${MAX_RECENT_LIMIT}).`),
    cursor: cursorInput,
    message_id: z.number().int().min(1).optional().describe("Just this message (#id), with its whole text."),
    timezone: timezoneInput,
  },
  outputSchema: {
    ...messagePageShape,
    messages: messagePageShape.messages.describe("Newest first; oldest first with since_rowid."),
    latestRowid: z
      .number()
      .int()
      .describe("Highest message id seen so far: pass as since_rowid to get only newer messages."),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

/** The arguments that choose which messages; message_id chooses one itself, so it goes with none of them. */
const SELECTING_ARGS = [
  "hours",
  "start_date",
  "end_date",
  "contact",
  "chat",
  "unread_only",
  "since_rowid",
  "offset",
  "limit",
  "cursor",
] as const;

/** get_recent_messages with message_id: one message, its text up to TEXT_CAPS.singleMessageText. */
function oneMessage(ctx: ToolContext, id: number) {
  const message = ctx.messages.getMessage(id);
  if (!message) {
    throw new ToolInputError(`There is no message #${id}. Message ids are the #numbers in other results.`);
  }
  const view = ctx.messageView(message);
  const text = renderMessagePage({
    header: `Message #${id}.`,
    messages: [view],
    emptyNote: "",
    textCap: TEXT_CAPS.singleMessageText,
    fullTextHint: null,
    timeZone: ctx.timeZone,
  });
  return okResult(text, {
    messages: [view],
    count: 1,
    nextCursor: null,
    filter: `message #${id}`,
    latestRowid: id,
  });
}

export const getRecentMessages = defineTool({
  name: "get_recent_messages",
  permission: "read",
  ...getRecentMessagesTool,
  handler: (args, { deps }) =>
    guard(() => {
      const ctx = new ToolContext(deps, { timeZone: args.timezone });
      if (args.message_id !== undefined) {
        const others = SELECTING_ARGS.filter((name) => args[name] !== undefined);
        if (others.length > 0) {
          throw new ToolInputError(`message_id already says which message: leave out ${others.join(", ")}.`);
        }
        return oneMessage(ctx, args.message_id);
      }
      const limit = clampLimit(args.limit, MAX_RECENT_LIMIT);
      const window = recentWindow(args, ctx.timeZone);
      const polling = args.since_rowid !== undefined;
      if (polling && args.cursor !== undefined) {
        throw new ToolInputError(
          "Give either since_rowid or cursor, not both: with since_rowid, continue by passing latestRowid as since_rowid.",
        );
      }
      const filter = resolveConversationFilter(ctx, args);
      if ("empty" in filter) return noMessages(filter, { latestRowid: args.since_rowid ?? 0 });
      const query: Omit<MessageQuery, "limit"> = {
        since: window.since,
        until: window.until,
        chatRowids: filter.chatRowids,
        handleRowids: filter.handleRowids,
        unreadOnly: args.unread_only ?? false,
        order: polling ? "asc" : "desc",
        afterRowid: args.since_rowid,
      };
      if (args.cursor !== undefined) query.cursor = decodePositionCursor(args.cursor);
      const offset = args.cursor === undefined ? (args.offset ?? 0) : 0;
      const start = offset > 0 ? skipMessages(ctx, query, offset) : {};
      const found = start === null ? [] : ctx.messages.getMessages({ ...query, ...start, limit: limit + 1 });
      const { page, nextCursor: cursorAfter } = positionPage(found, limit);
      const more = found.length > limit;
      // Oldest-first pages continue with since_rowid; newest-first ones with the opaque cursor.
      const nextCursor = polling ? null : cursorAfter;
      const latestRowid = polling
        ? Math.max(args.since_rowid ?? 0, page[page.length - 1]?.rowid ?? 0)
        : Math.max(0, ...page.map((m) => m.rowid));
      const shown = page.map((m) => ctx.messageView(m));
      const what = (who: string) =>
        [
          "Messages",
          polling ? `after #${args.since_rowid}` : "",
          window.description,
          args.unread_only ? "(unread only)" : "",
          who,
          offset > 0 ? `skipping ${offset}` : "",
        ]
          .filter((part) => part !== "")
          .join(" ");
      const order = polling ? "oldest first" : "newest first";
      const header = `${what(filter.header)}: ${shown.length} shown, ${order}.`;
      const oneChat = filter.chatRowids?.length === 1;
      let text = pageText(header, filter.names, shown, nextCursor, "No messages.", oneChat, ctx.timeZone);
      if (polling && more) text += `\nMore messages: call again with since_rowid ${latestRowid}.`;
      return okResult(text, {
        messages: shown,
        count: shown.length,
        nextCursor,
        filter: what(filter.description),
        latestRowid,
      });
    }),
});
