// search_messages: messages by their words, through the search index when it is ready.

import { z } from "zod";
import type { MessageQuery } from "../../messages/types.js";
import { parseDateWindow } from "../../util/dates.js";
import {
  chatInput,
  contactInput,
  cursorInput,
  dateWindowInput,
  limitInput,
  messagePageShape,
  timezoneInput,
} from "../core/input-schemas.js";
import { noMessages, pageText } from "../core/message-page.js";
import { clampLimit, decodePositionCursor, positionPage } from "../core/paging.js";
import { resolveConversationFilter } from "../core/resolve-references.js";
import { ToolContext } from "../core/tool-context.js";
import { guard, okResult, ToolInputError } from "../core/tool-result.js";
import { defineTool } from "../tool-definition.js";

const searchMessagesTool = {
  title: "Search messages",
  description:
    "Find messages by their words in all history (exact or typo-tolerant), optionally with one person, in one chat or between dates. Use it when the user remembers what was said but not when.",
  inputSchema: {
    query: z.string().min(1).max(500).describe("Text to look for."),
    mode: z
      .enum(["auto", "substring", "fuzzy"])
      .optional()
      .describe("substring (exact), fuzzy (typos, word order) or auto (default): substring, then fuzzy."),
    contact: contactInput,
    chat: chatInput,
    ...dateWindowInput,
    limit: limitInput,
    cursor: cursorInput,
    timezone: timezoneInput,
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
      const ctx = new ToolContext(deps, { timeZone: args.timezone });
      const limit = clampLimit(args.limit);
      if (args.query.trim() === "") throw new ToolInputError("The search text is empty.");
      // Read before any wait for the search index: a bad date is refused at once.
      const window = parseDateWindow(args, ctx.timeZone);
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
      const filter = resolveConversationFilter(ctx, args);
      if ("empty" in filter) return noMessages(filter, { mode: "substring" });
      const base: Omit<MessageQuery, "limit"> = {
        since: window.start,
        until: window.end,
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
        (window.description ? ` ${window.description}` : "");
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
          ctx.timeZone,
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
