// A chat as the chat tools show it.

import { z } from "zod";
import type { ChatSummary } from "../../messages/types.js";
import { isoInZone } from "../../util/dates.js";
import { chatTitle } from "../format.js";
import { messageLine, shortName } from "../render-messages.js";
import { handleSchema, messageSchema } from "./input-schemas.js";
import { chatRefString } from "./resolve-references.js";
import type { ToolContext } from "./tool-context.js";

export const chatSchema = z.object({
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
  // Counted for format "json" only (the text does not show it): null never reaches a caller.
  messageCount: z.number().int().nullable(),
  unreadCount: z.number().int(),
});

export type ChatView = z.infer<typeof chatSchema>;

export function chatView(ctx: ToolContext, chat: ChatSummary<boolean>): ChatView {
  ctx.knowChat(chat);
  return {
    id: chat.rowid,
    ref: chatRefString(chat),
    guid: chat.guid,
    identifier: chat.identifier,
    name: chatTitle(chat, ctx.nameFor),
    isGroup: chat.isGroup,
    service: chat.service,
    participants: participantViews(ctx, chat),
    lastMessage: chat.lastMessage ? ctx.messageView(chat.lastMessage) : null,
    lastActivity: lastActivity(ctx, chat),
    messageCount: chat.messageCount,
    unreadCount: chat.unreadCount,
  };
}

/** A chat's participants as the chat tools show them. */
export function participantViews(ctx: ToolContext, chat: ChatSummary<boolean>): ChatView["participants"] {
  return chat.participants.map((p) => ({ id: p.id, service: p.service, name: ctx.nameFor(p.id) }));
}

/** When the chat was last active, in the call's zone; null for a chat without messages. */
export function lastActivity(ctx: ToolContext, chat: ChatSummary<boolean>): string | null {
  return chat.lastActivity ? isoInZone(chat.lastActivity, ctx.timeZone) : null;
}

/** At most this many participants are named on a group's line; the rest are counted. */
const NAMED_PARTICIPANTS = 8;
/** How much of the last message a chat's line shows. */
const LAST_MESSAGE_CHARS = 200;

/**
 * "chat:3 Weekend Crew (group: Alice Smith, Bob Stone), 2 unread" then the last message on its own line.
 * Third-party content (names, the last message): it goes inside the fence.
 */
export function chatLine(view: ChatView, timeZone: string): string {
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
    ? `\n  last: ${messageLine(view.lastMessage, { showDate: true, textCap: LAST_MESSAGE_CHARS, timeZone })}`
    : "";
  return `${view.ref} ${shortName(view.name)}${who}${service}${unread}${last}`;
}
