// "What was she answering?": a message and the messages around it in its chat, in date order. Built on the
// reader's public queries (a chat's date order and its cursors), so every reader answers it the same way.
import type { Message, MessagesReader } from "./types.js";

export interface Surrounding {
  /** The message asked for. */
  message: Message;
  /** Up to `before` messages just before it in its chat, oldest first. */
  before: Message[];
  /** Up to `after` messages just after it in its chat, oldest first. */
  after: Message[];
  /** Whether the chat has more messages beyond `before` / `after` (so a larger window would show more). */
  moreBefore: boolean;
  moreAfter: boolean;
}

/**
 * The message `ref` (ROWID or guid) with `before` messages before and `after` after it in its chat, by
 * date (ties by ROWID, as everywhere). null when there is no such message. A message in no chat (an orphan
 * row) comes alone.
 */
export function messagesAround(
  reader: Pick<MessagesReader, "getMessage" | "getMessages">,
  ref: number | string,
  before: number,
  after: number,
): Surrounding | null {
  const message = reader.getMessage(ref);
  if (!message) return null;
  if (message.chatRowid === null) {
    return { message, before: [], after: [], moreBefore: false, moreAfter: false };
  }
  const chatRowids = [message.chatRowid];
  const earlier =
    before > 0
      ? reader.getMessages({ chatRowids, cursor: message.position, order: "desc", limit: before + 1 })
      : [];
  const later =
    after > 0
      ? reader.getMessages({ chatRowids, cursor: message.position, order: "asc", limit: after + 1 })
      : [];
  return {
    message,
    before: earlier.slice(0, before).reverse(),
    after: later.slice(0, after),
    moreBefore: earlier.length > before,
    moreAfter: later.length > after,
  };
}
