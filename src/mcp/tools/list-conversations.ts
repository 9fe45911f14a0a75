// list_conversations: conversations with their kind and a preview of the last message.

import { z } from "zod";
import type { ChatSummary } from "../../messages/types.js";
import { shortTimeInZone, timeZoneNote } from "../../util/dates.js";
import { lastActivity, participantViews } from "../core/chat-view.js";
import { conversationKind } from "../core/conversation-kind.js";
import { cursorInput, handleSchema } from "../core/input-schemas.js";
import { decodeCursor, moreNote, offsetPage } from "../core/paging.js";
import { chatRefString } from "../core/resolve-references.js";
import { ToolContext } from "../core/tool-context.js";
import { guard, okResult } from "../core/tool-result.js";
import { chatTitle, fencedLines } from "../format.js";
import { shortName } from "../render-messages.js";
import { defineTool } from "../tool-definition.js";

const DEFAULT_CONVERSATIONS = 100;
const MAX_CONVERSATIONS = 500;
const PREVIEW_CHARS = 80;

const conversationSchema = z.object({
  id: z.number().int(),
  ref: z.string().describe("chat:<id>: the chat argument of other tools, or a send_message recipient."),
  name: z.string(),
  kind: z.enum(["direct", "group", "business"]),
  service: z.string(),
  participants: z.array(handleSchema),
  messageCount: z.number().int(),
  unreadCount: z.number().int(),
  lastActivity: z.string().nullable().describe("ISO 8601 UTC; null for a chat without messages."),
  lastMessagePreview: z.string().nullable().describe("Start of the last message (third-party content)."),
  lastMessageFromMe: z.boolean().nullable(),
});

type ConversationView = z.infer<typeof conversationSchema>;

/** Built from the chat itself, not from its full chat view: a preview needs no view of the last message. */
function conversationView(ctx: ToolContext, chat: ChatSummary): ConversationView {
  const last = chat.lastMessage;
  const body = last
    ? (last.displayText ??
      (last.attachments.length > 0 ? `[${last.attachments.length} attachment(s)]` : null))
    : null;
  return {
    id: chat.rowid,
    ref: chatRefString(chat),
    name: chatTitle(chat, ctx.nameFor),
    kind: conversationKind(chat),
    service: chat.service,
    participants: participantViews(ctx, chat),
    messageCount: chat.messageCount,
    unreadCount: chat.unreadCount,
    lastActivity: lastActivity(ctx, chat),
    lastMessagePreview:
      body === null ? null : body.length > PREVIEW_CHARS ? `${body.slice(0, PREVIEW_CHARS)}…` : body,
    lastMessageFromMe: last ? last.isFromMe : null,
  };
}

function conversationLine(view: ConversationView, timeZone: string): string {
  const when = view.lastActivity
    ? `last ${shortTimeInZone(new Date(view.lastActivity), timeZone)}`
    : "no messages";
  const unread = view.unreadCount > 0 ? `, ${view.unreadCount} unread` : "";
  const preview = view.lastMessagePreview
    ? ` — ${view.lastMessageFromMe ? "Me: " : ""}${view.lastMessagePreview.replace(/\s+/g, " ")}`
    : "";
  return `${view.ref} ${shortName(view.name)} [${view.kind}, ${view.service}] ${view.messageCount} messages${unread}; ${when}${preview}`;
}

const listConversationsTool = {
  title: "List conversations",
  description:
    "List every conversation grouped as one-to-one, group or business (Messages for Business, SMS short codes) with message and unread counts. Use it for an overview of who the user talks with; list_chats is lighter for recent activity.",
  inputSchema: {
    unread_only: z.boolean().optional().describe("Only conversations with unread incoming messages."),
    limit: z
      .number()
      .int()
      .min(1)
      .max(MAX_CONVERSATIONS)
      .optional()
      .describe(`Default ${DEFAULT_CONVERSATIONS}, at most ${MAX_CONVERSATIONS}.`),
    cursor: cursorInput,
  },
  outputSchema: {
    conversations: z.array(conversationSchema),
    count: z.number().int(),
    nextCursor: z.string().nullable(),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

export const listConversations = defineTool({
  name: "list_conversations",
  permission: "read",
  ...listConversationsTool,
  handler: (args, { deps }) =>
    guard(() => {
      const ctx = new ToolContext(deps);
      const limit = args.limit ?? DEFAULT_CONVERSATIONS;
      const offset = args.cursor === undefined ? 0 : decodeCursor(args.cursor, "offset");
      const found = ctx.messages.listChats({ limit: limit + 1, offset, unreadOnly: args.unread_only });
      const { page: rows, nextCursor } = offsetPage(found, limit, offset);
      const page = rows.map((chat) => conversationView(ctx, chat));
      const dates = page.flatMap((c) => (c.lastActivity ? [new Date(c.lastActivity)] : []));
      const header = `${page.length} conversation${page.length === 1 ? "" : "s"}${args.unread_only ? " with unread messages" : ""}, most recent first.\n${timeZoneNote(ctx.timeZone, dates)}`;
      const lines = page.map((c) => conversationLine(c, ctx.timeZone));
      const text = `${header}\n${fencedLines(lines, "No conversations.")}${moreNote("conversations", nextCursor)}`;
      return okResult(text, { conversations: page, count: page.length, nextCursor });
    }),
});
