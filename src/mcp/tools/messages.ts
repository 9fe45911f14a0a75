import { z } from "zod";
import type { MessageQuery } from "../../messages/types.js";
import type { MessageView } from "../format.js";
import { renderMessagePage } from "../render-messages.js";
import { TEXT_CAPS } from "../render-truncate.js";
import { defineTool } from "../tool-definition.js";
import {
  clampLimit,
  DEFAULT_LIMIT,
  decodePositionCursor,
  type EmptyFilter,
  guard,
  moreNote,
  okResult,
  parseDateInput,
  positionPage,
  resolveConversationFilter,
  ToolContext,
  ToolInputError,
} from "./context.js";
import { chatInput, contactInput, cursorInput, limitInput, messagePageShape } from "./schemas.js";

const HOUR_MS = 3_600_000;
/** Twenty years: effectively "all history", while keeping the date arithmetic sane. */
const MAX_HOURS = 24 * 366 * 20;

/** A page of messages as the model reads it; `names` are what the refs in the header stand for. */
function pageText(
  header: string,
  names: readonly string[],
  page: MessageView[],
  nextCursor: string | null,
  emptyNote: string,
  oneChat: boolean,
): string {
  return renderMessagePage({
    header,
    names,
    messages: page,
    oneChat,
    emptyNote,
    more: moreNote("messages", nextCursor).trim() || undefined,
  });
}

/** The result when the contact/chat filter rules out every message: it says why. */
function noMessages(why: EmptyFilter, extra: Record<string, unknown>) {
  return okResult(why.emptyText, { messages: [], count: 0, nextCursor: null, filter: why.empty, ...extra });
}

/** get_recent_messages pages can be larger than other tools': polling clients catch up in fewer calls. */
export const MAX_RECENT_LIMIT = 1000;
/** Skipping is a walk over the rows before the page, so it is bounded; the cursor reaches further. */
export const MAX_OFFSET = 10_000;
const SKIP_BATCH = 1000;

// YYYY-MM-DD, or a date and time with an optional offset ("Z", "+02:00", "-0800").
const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * A strict ISO 8601 date or date-time. Without an offset it is local time on this Mac. Impossible dates
 * (2025-02-30) are refused rather than rolled over into the next month, as `new Date` would.
 */
export function parseIsoDate(value: string, what: string): Date {
  const trimmed = value.trim();
  const bad = (why: string) =>
    new ToolInputError(
      `${what} "${value}" ${why}: use ISO 8601 such as 2025-03-01, 2025-03-01T14:00:00Z or 2025-03-01T09:00:00-08:00.`,
    );
  const parts = ISO_DATE.exec(trimmed);
  if (!parts) throw bad("is not a date");
  const [, year, month, day, hour = "00", minute = "00", second = "00"] = parts;
  const calendar = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (
    calendar.getUTCMonth() !== Number(month) - 1 ||
    calendar.getUTCDate() !== Number(day) ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59
  ) {
    throw bad("is not a real date and time");
  }
  // A date alone would be read as UTC midnight by `new Date`; people mean midnight where they are.
  const date = new Date(parts[4] === undefined ? `${trimmed}T00:00:00` : trimmed.replace(" ", "T"));
  if (Number.isNaN(date.getTime())) throw bad("is not a date");
  return date;
}

interface RecentWindow {
  since?: Date;
  until?: Date;
  /** "from the last 24 hours", "from 2025-03-01T00:00:00.000Z to …", "" for no time limit. */
  description: string;
}

/**
 * The time window of get_recent_messages: start_date/end_date when given (hours then counts back from
 * end_date when there is no start_date), else the last `hours`. With since_rowid and no time argument
 * there is no window at all: polling wants everything newer, however old the wait.
 */
function recentWindow(args: {
  hours?: number | undefined;
  start_date?: string | undefined;
  end_date?: string | undefined;
  since_rowid?: number | undefined;
}): RecentWindow {
  const given = (v: string | undefined) => v !== undefined && v.trim() !== "";
  const start = given(args.start_date) ? parseIsoDate(args.start_date ?? "", "start_date") : undefined;
  const end = given(args.end_date) ? parseIsoDate(args.end_date ?? "", "end_date") : undefined;
  if (start && args.hours !== undefined) {
    throw new ToolInputError(
      "Give either hours or start_date, not both: start_date already says how far back.",
    );
  }
  if (start && end && end.getTime() <= start.getTime()) {
    throw new ToolInputError(
      `end_date (${end.toISOString()}) must be after start_date (${start.toISOString()}).`,
    );
  }
  if (start) {
    return {
      since: start,
      until: end,
      description: `from ${start.toISOString()}${end ? ` to ${end.toISOString()}` : ""}`,
    };
  }
  if (args.since_rowid !== undefined && args.hours === undefined && !end) return { description: "" };
  const hours = args.hours ?? 24;
  const span = `${hours} hour${hours === 1 ? "" : "s"}`;
  if (end) {
    return {
      since: new Date(end.getTime() - hours * HOUR_MS),
      until: end,
      description: `from the ${span} before ${end.toISOString()}`,
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
      .describe("How far back to look, in hours (default 24; counted back from end_date when given)."),
    start_date: z
      .string()
      .max(40)
      .optional()
      .describe(
        "Only messages at or after this moment: ISO 8601, e.g. 2025-03-01 or 2025-03-01T09:00:00-08:00 " +
          "(no offset = local time). Replaces hours.",
      ),
    end_date: z
      .string()
      .max(40)
      .optional()
      .describe("Only messages before this moment (ISO 8601); must be after start_date."),
    contact: contactInput,
    chat: chatInput,
    unread_only: z.boolean().optional().describe("Only incoming messages not yet read."),
    since_rowid: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Only messages with a higher id (a message id or a previous latestRowid), oldest first."),
    offset: z
      .number()
      .int()
      .min(0)
      .max(MAX_OFFSET)
      .optional()
      .describe(`Skip this many messages first (at most ${MAX_OFFSET}); ignored when cursor is given.`),
    limit: z
      .number()
      .int()
      .min(1)
      .max(MAX_RECENT_LIMIT)
      .optional()
      .describe(`How many to return (default ${DEFAULT_LIMIT}, at most ${MAX_RECENT_LIMIT}).`),
    cursor: cursorInput,
    message_id: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("Only this message (#id), with all of its text; long texts are cut in other results."),
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
      const ctx = new ToolContext(deps);
      if (args.message_id !== undefined) {
        const others = SELECTING_ARGS.filter((name) => args[name] !== undefined);
        if (others.length > 0) {
          throw new ToolInputError(`message_id already says which message: leave out ${others.join(", ")}.`);
        }
        return oneMessage(ctx, args.message_id);
      }
      const limit = clampLimit(args.limit, MAX_RECENT_LIMIT);
      const window = recentWindow(args);
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
      let text = pageText(header, filter.names, shown, nextCursor, "No messages.", oneChat);
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

const searchMessagesTool = {
  title: "Search messages",
  description:
    "Find messages by their words in all history (exact or typo-tolerant), optionally with one person, in one chat or between dates. Use it when the user remembers what was said but not when.",
  inputSchema: {
    query: z.string().min(1).max(500).describe("Text to look for."),
    mode: z
      .enum(["auto", "substring", "fuzzy"])
      .optional()
      .describe(
        "substring: exact text, case-insensitive; fuzzy: tolerates typos and word order; auto (default): substring, then fuzzy if nothing matches.",
      ),
    contact: contactInput,
    chat: chatInput,
    since: z.string().max(40).optional().describe("Only messages on or after this date (ISO 8601)."),
    until: z.string().max(40).optional().describe("Only messages before this date (ISO 8601)."),
    limit: limitInput,
    cursor: cursorInput,
  },
  outputSchema: {
    ...messagePageShape,
    mode: z.enum(["substring", "fuzzy"]).describe("How this page was matched."),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

export const searchMessages = defineTool({
  name: "search_messages",
  permission: "read",
  ...searchMessagesTool,
  handler: (args, { deps, extra }) =>
    guard(async () => {
      const ctx = new ToolContext(deps);
      const limit = clampLimit(args.limit);
      if (args.query.trim() === "") throw new ToolInputError("The search text is empty.");
      // A client that asked for progress can wait for the search index (built once, in the background)
      // and see how far along it is; others get the same answers from a scan meanwhile.
      const progressToken = extra.mcpReq._meta?.progressToken;
      if (progressToken !== undefined && ctx.messages.prepareSearch) {
        await ctx.messages.prepareSearch({
          signal: extra.mcpReq.signal,
          onProgress: (done, total) =>
            void extra.mcpReq
              .notify({
                method: "notifications/progress",
                params: { progressToken, progress: done, total, message: "Indexing messages for search…" },
              })
              .catch(() => {}),
        });
      }
      const since = parseDateInput(args.since, "since");
      const until = parseDateInput(args.until, "until");
      const filter = resolveConversationFilter(ctx, args);
      if ("empty" in filter) return noMessages(filter, { mode: "substring" });
      const base: Omit<MessageQuery, "limit"> = {
        since,
        until,
        chatRowids: filter.chatRowids,
        handleRowids: filter.handleRowids,
      };
      if (args.cursor !== undefined) base.cursor = decodePositionCursor(args.cursor);
      const requested = args.mode ?? "auto";
      const search = (mode: "substring" | "fuzzy") =>
        ctx.messages.searchMessages({ ...base, text: args.query, mode, limit: limit + 1 });
      let mode: "substring" | "fuzzy" = requested === "fuzzy" ? "fuzzy" : "substring";
      let found = search(mode);
      let note = "";
      // Only on a first page: a later empty page just means the earlier pages had everything.
      if (found.length === 0 && requested === "auto" && args.cursor === undefined) {
        mode = "fuzzy";
        note = " No exact matches; showing typo-tolerant matches.";
        found = search(mode);
      }
      // The search index may still be building: the reader then says what it did not search yet.
      const incomplete = ctx.messages.searchNotice?.() ?? null;
      if (incomplete) note += ` ${incomplete}`;
      const { page, nextCursor } = positionPage(found, limit);
      const shown = page.map((m) => ctx.messageView(m));
      const what = (who: string) =>
        `Messages matching "${args.query}"` +
        (who ? ` ${who}` : "") +
        (since ? ` since ${since.toISOString()}` : "") +
        (until ? ` before ${until.toISOString()}` : "");
      // The query is the caller's own words, but it is echoed next to third-party content: keep it one line.
      const header = `${what(filter.header).replace(/[\r\n]+/g, " ")}: ${shown.length} found (${mode}).${note}`;
      return okResult(
        pageText(
          header,
          filter.names,
          shown,
          nextCursor,
          "No matching messages.",
          filter.chatRowids?.length === 1,
        ),
        {
          messages: shown,
          count: shown.length,
          nextCursor,
          filter: what(filter.description),
          mode,
        },
      );
    }),
});
