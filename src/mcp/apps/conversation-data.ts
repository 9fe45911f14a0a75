// What the conversation view is given: one page of one chat, shaped for drawing bubbles (who, when, text,
// tapbacks, the message a reply answers, edited/unsent, thumbnails and file chips). It travels in the tool
// result's `_meta` (show-conversation.ts), which hosts hand to the view and never to the model. Every
// string in it is other people's text: the view renders it with textContent only.
import type { Chat, Message } from "../../messages/types.js";
import type { ToolContext } from "../core/tool-context.js";
import { chatTitle, describeEvent, senderName, tapbackSymbol } from "../format.js";
import { capText, TEXT_CAPS } from "../render-truncate.js";
import { type Thumbnail, thumbnailFor } from "./thumbnail.js";

/** The `_meta` key of a show_conversation result that holds ConversationViewData. */
export const VIEW_DATA_KEY = "io.github.mac-messages-mcp/conversation";

/** Images per page that get a thumbnail; further ones are file chips (bounds the work and the result). */
export const MAX_THUMBNAILS_PER_PAGE = 24;
/** How much of a message's text the view shows (a bubble is not a document reader). */
const VIEW_TEXT_CAP = 4000;

export interface ViewAttachment {
  id: number;
  name: string | null;
  mimeType: string | null;
  sizeBytes: number;
  isSticker: boolean;
  /** A server-made thumbnail (images only); null: show a file chip. */
  thumbnail: Thumbnail | null;
}

export interface ViewMessage {
  id: number;
  /** ISO 8601 UTC; the view writes days and times in the user's time zone. */
  date: string;
  isFromMe: boolean;
  /** "Me", the contact's name, or the handle. */
  from: string;
  service: string;
  text: string | null;
  /** Words for a group event (rename, members) instead of a bubble. */
  event: string | null;
  tapbacks: { emoji: string; from: string }[];
  /** The message this one answers: its id when it is in chat.db, and its first words. */
  replyTo: { id: number | null; preview: string | null } | null;
  isEdited: boolean;
  isUnsent: boolean;
  attachments: ViewAttachment[];
}

export interface ConversationViewData {
  chat: { id: number; ref: string; name: string; isGroup: boolean; service: string };
  /** Newest first, as the tools page them. */
  messages: ViewMessage[];
  /** Pass back as `cursor` for the older page (the same cursor get_recent_messages uses). */
  nextCursor: string | null;
  /** Whether this server (this token) offers send_message: the view shows its reply box only then. */
  canSend: boolean;
  /** The Mac's time zone, for when the host does not say the user's. */
  timeZone: string;
}

function viewText(message: Message): string | null {
  const text = message.displayText ?? message.transcription;
  if (text === null || text.trim() === "") return null;
  return capText(text, VIEW_TEXT_CAP);
}

/** One page of `chat` for the view; `budget` counts the thumbnails left for this page. */
export async function viewMessages(ctx: ToolContext, messages: readonly Message[]): Promise<ViewMessage[]> {
  let thumbnails = MAX_THUMBNAILS_PER_PAGE;
  const out: ViewMessage[] = [];
  for (const message of messages) {
    const attachments: ViewAttachment[] = [];
    for (const attachment of message.attachments) {
      let thumbnail: Thumbnail | null = null;
      if (thumbnails > 0) {
        thumbnail = await thumbnailFor(attachment, ctx.messages.path).catch(() => null);
        if (thumbnail) thumbnails -= 1;
      }
      attachments.push({
        id: attachment.rowid,
        name: attachment.name === null ? null : capText(attachment.name, TEXT_CAPS.name),
        mimeType: attachment.mimeType,
        sizeBytes: attachment.sizeBytes,
        isSticker: attachment.isSticker,
        thumbnail,
      });
    }
    out.push({
      id: message.rowid,
      date: message.date.toISOString(),
      isFromMe: message.isFromMe,
      from: capText(senderName(message.isFromMe, message.handle, ctx.nameFor), TEXT_CAPS.name),
      service: message.service,
      text: viewText(message),
      event: describeEvent(message, ctx.nameFor),
      tapbacks: message.tapbacks.map((t) => ({
        emoji: capText(tapbackSymbol(t), 16),
        from: capText(senderName(t.isFromMe, t.handle, ctx.nameFor), TEXT_CAPS.name),
      })),
      replyTo: message.replyTo
        ? {
            id: message.replyTo.rowid,
            preview: message.replyTo.preview === null ? null : capText(message.replyTo.preview, 120),
          }
        : null,
      isEdited: message.isEdited,
      isUnsent: message.isUnsent,
      attachments,
    });
  }
  return out;
}

export function viewChat(ctx: ToolContext, chat: Chat): ConversationViewData["chat"] {
  return {
    id: chat.rowid,
    ref: `chat:${chat.rowid}`,
    name: capText(chatTitle(chat, ctx.nameFor), TEXT_CAPS.name),
    isGroup: chat.isGroup,
    service: chat.service,
  };
}
