// list_chats: chats, most recent first, with participants and the last message.

import { z } from "zod";
import { timeZoneNote } from "../../util/dates.js";
import { chatLine, chatSchema, chatView } from "../core/chat-view.js";
import { cursorInput, limitInput, timezoneInput } from "../core/input-schemas.js";
import { clampLimit, decodeCursor, moreNote, offsetPage } from "../core/paging.js";
import { ToolContext } from "../core/tool-context.js";
import { guard, okResult } from "../core/tool-result.js";
import { fencedLines } from "../format.js";
import { defineTool } from "../tool-definition.js";

const listChatsTool = {
  title: "List chats",
  description:
    "List conversations, most recently active first, with participants, last message and unread count. Use it to find the chat:<id> of a group or to see what is unread.",
  inputSchema: {
    unread_only: z.boolean().optional().describe("Only chats with unread incoming messages."),
    since_hours: z.number().positive().optional().describe("Only chats active in the last N hours."),
    limit: limitInput,
    cursor: cursorInput,
    timezone: timezoneInput,
  },
  outputSchema: {
    chats: z.array(chatSchema),
    count: z.number().int(),
    nextCursor: z.string().nullable(),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

export const listChats = defineTool({
  name: "list_chats",
  permission: "read",
  ...listChatsTool,
  handler: (args, { deps, format }) =>
    guard(() => {
      const ctx = new ToolContext(deps, { timeZone: args.timezone });
      const limit = clampLimit(args.limit);
      const offset = args.cursor === undefined ? 0 : decodeCursor(args.cursor, "offset");
      const since =
        args.since_hours === undefined ? undefined : new Date(Date.now() - args.since_hours * 3_600_000);
      const found = ctx.messages.listChats({
        limit: limit + 1,
        offset,
        unreadOnly: args.unread_only,
        since,
        // The text shows no message counts, and a chat's first count reads all its messages: JSON only.
        messageCounts: format === "json",
      });
      const { page: rows, nextCursor } = offsetPage(found, limit, offset);
      const page = rows.map((c) => chatView(ctx, c));
      const dates = page.flatMap((c) => (c.lastMessage ? [new Date(c.lastMessage.date)] : []));
      const header = `${page.length} chat${page.length === 1 ? "" : "s"}${args.unread_only ? " with unread messages" : ""}, most recent first.\n${timeZoneNote(ctx.timeZone, dates)}`;
      const lines = page.map((c) => chatLine(c, ctx.timeZone));
      const text = `${header}\n${fencedLines(lines, "No chats.")}${moreNote("chats", nextCursor)}`;
      return okResult(text, { chats: page, count: page.length, nextCursor });
    }),
});
