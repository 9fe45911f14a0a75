import { z } from "zod";
import type { ChatSummary } from "../../messages/types.js";
import { chatTitle, fencedLines } from "../format.js";
import { messageLine, shortName, timeZoneNote } from "../render-messages.js";
import { defineTool } from "../tool-definition.js";
import {
  chatRefString,
  clampLimit,
  decodeCursor,
  guard,
  moreNote,
  offsetPage,
  okResult,
  ToolContext,
} from "./context.js";
import { cursorInput, handleSchema, limitInput, messageSchema } from "./schemas.js";

const chatSchema = z.object({
  id: z.number().int(),
  ref: z
    .string()
    .describe("chat:<id>: use as the chat argument of other tools or as a send_message recipient."),
  guid: z.string(),
  identifier: z.string(),
  name: z.string(),
  isGroup: z.boolean(),
  service: z.string(),
  participants: z.array(handleSchema),
  lastMessage: messageSchema.nullable(),
  lastActivity: z.string().nullable(),
  messageCount: z.number().int(),
  unreadCount: z.number().int(),
});

export type ChatView = z.infer<typeof chatSchema>;

export function chatView(ctx: ToolContext, chat: ChatSummary): ChatView {
  return {
    id: chat.rowid,
    ref: chatRefString(chat),
    guid: chat.guid,
    identifier: chat.identifier,
    name: chatTitle(chat, ctx.nameFor),
    isGroup: chat.isGroup,
    service: chat.service,
    participants: chat.participants.map((p) => ({ id: p.id, service: p.service, name: ctx.nameFor(p.id) })),
    lastMessage: chat.lastMessage ? ctx.messageView(chat.lastMessage) : null,
    lastActivity: chat.lastActivity?.toISOString() ?? null,
    messageCount: chat.messageCount,
    unreadCount: chat.unreadCount,
  };
}

/** At most this many participants are named on a group's line; the rest are counted. */
const NAMED_PARTICIPANTS = 8;
/** How much of the last message a chat's line shows. */
const LAST_MESSAGE_CHARS = 200;

/**
 * "chat:3 Weekend Crew (group: Alice Smith, Bob Stone), 2 unread" then the last message on its own line.
 * Third-party content (names, the last message): it goes inside the fence.
 */
export function chatLine(view: ChatView): string {
  const names = view.participants.map((p) => shortName(p.name ?? p.id));
  const shown = names.slice(0, NAMED_PARTICIPANTS).join(", ");
  const rest = names.length > NAMED_PARTICIPANTS ? ` and ${names.length - NAMED_PARTICIPANTS} more` : "";
  const who = view.isGroup
    ? ` (group: ${shown}${rest})`
    : view.participants[0] && view.participants[0].id !== view.name
      ? ` (${view.participants[0].id})`
      : "";
  const service = view.service !== "iMessage" ? ` [${view.service}]` : "";
  const unread = view.unreadCount > 0 ? `, ${view.unreadCount} unread` : "";
  const last = view.lastMessage
    ? `\n  last: ${messageLine(view.lastMessage, { showDate: true, textCap: LAST_MESSAGE_CHARS })}`
    : "";
  return `${view.ref} ${shortName(view.name)}${who}${service}${unread}${last}`;
}

const listChatsTool = {
  title: "List chats",
  description:
    "List conversations, most recently active first, with participants, last message and unread count. Use it to find the chat:<id> of a group or to see what is unread.",
  inputSchema: {
    unread_only: z.boolean().optional().describe("Only chats with unread incoming messages."),
    since_hours: z.number().positive().optional().describe("Only chats active in the last N hours."),
    limit: limitInput,
    cursor: cursorInput,
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
  handler: (args, { deps }) =>
    guard(() => {
      const ctx = new ToolContext(deps);
      const limit = clampLimit(args.limit);
      const offset = args.cursor === undefined ? 0 : decodeCursor(args.cursor, "offset");
      const since =
        args.since_hours === undefined ? undefined : new Date(Date.now() - args.since_hours * 3_600_000);
      const found = ctx.messages.listChats({
        limit: limit + 1,
        offset,
        unreadOnly: args.unread_only,
        since,
      });
      const { page: rows, nextCursor } = offsetPage(found, limit, offset);
      const page = rows.map((c) => chatView(ctx, c));
      const dates = page.flatMap((c) => (c.lastMessage ? [new Date(c.lastMessage.date)] : []));
      const header = `${page.length} chat${page.length === 1 ? "" : "s"}${args.unread_only ? " with unread messages" : ""}, most recent first.\n${timeZoneNote(dates)}`;
      const text = `${header}\n${fencedLines(page.map(chatLine), "No chats.")}${moreNote("chats", nextCursor)}`;
      return okResult(text, { chats: page, count: page.length, nextCursor });
    }),
});
