// Direct, group or business: what kind of conversation a chat is.
import type { Chat } from "../../messages/types.js";

export type ConversationKind = "direct" | "group" | "business";

// Apple Messages for Business chats use `urn:biz:<uuid>` identifiers; businesses also text from SMS short
// codes (3–6 digits, e.g. 262966) and some from addresses on a `biz` domain.
const BUSINESS_ID = /^urn:biz:/i;
const SHORT_CODE = /^\d{3,6}$/;
const BIZ_ADDRESS = /@(?:[\w-]+\.)*biz$/i;

export function isBusinessId(id: string): boolean {
  const trimmed = id.trim();
  return BUSINESS_ID.test(trimmed) || SHORT_CODE.test(trimmed) || BIZ_ADDRESS.test(trimmed);
}

/** Groups first (a business is never a group), then business by identifier or the other party's handle. */
export function conversationKind(
  chat: Pick<Chat, "isGroup" | "identifier" | "participants">,
): ConversationKind {
  if (chat.isGroup) return "group";
  if (isBusinessId(chat.identifier) || chat.participants.some((p) => isBusinessId(p.id))) return "business";
  return "direct";
}
