// Pure presentation: chat.db rows → the structured objects tools return and the text lines a model reads.
// Anything that came from other people (message text, names, file names) is third-party content; in text
// output it is fenced in an <untrusted-message-content> block whose delimiters cannot be forged from inside.
import type { Attachment, Chat, Handle, Message, Tapback, TapbackKind } from "../messages/types.js";
import { wrapUntrusted } from "./render-fence.js";
import { shortName } from "./render-messages.js";
import { capText } from "./render-truncate.js";

/** Looks up a display name for a chat.db handle id (phone/email); null when unknown. */
export type NameLookup = (handleId: string) => string | null;

// The fence and the caps live in their own modules (render-fence.ts, render-truncate.ts); re-exported here
// for the callers that know them from this one.
export {
  neutraliseDelimiters,
  UNTRUSTED_CLOSE,
  UNTRUSTED_OPEN,
  UNTRUSTED_TAG,
  wrapUntrusted,
} from "./render-fence.js";
export { localTimestamp, messageLine } from "./render-messages.js";
export { formatBytes } from "./render-truncate.js";

export const TAPBACK_EMOJI: Record<Exclude<TapbackKind, "emoji">, string> = {
  love: "❤️",
  like: "👍",
  dislike: "👎",
  laugh: "😂",
  emphasize: "‼️",
  question: "❓",
  sticker: "sticker",
};

export function tapbackSymbol(tapback: Pick<Tapback, "kind" | "emoji">): string {
  if (tapback.kind === "emoji") return tapback.emoji ?? "emoji";
  return TAPBACK_EMOJI[tapback.kind];
}

/** "Me", the contact's name, or the raw handle id. */
export function senderName(isFromMe: boolean, handle: Handle | null, nameFor: NameLookup): string {
  if (isFromMe) return "Me";
  if (handle === null) return "Unknown sender";
  return nameFor(handle.id) ?? handle.id;
}

/** A group's own name, else its members' names; for one-to-one chats, the other person's name. */
export function chatTitle(chat: Chat, nameFor: NameLookup): string {
  if (chat.displayName && chat.displayName.trim() !== "") return chat.displayName;
  if (chat.isGroup) {
    const names = chat.participants.map((p) => nameFor(p.id) ?? p.id);
    return names.length > 0 ? names.join(", ") : chat.identifier;
  }
  const other = chat.participants[0]?.id ?? chat.identifier;
  return nameFor(other) ?? other;
}

/** "❤️ Alice, 👍 Me" — one entry per reaction, in the order they were given. */
export function summariseTapbacks(tapbacks: readonly Tapback[], nameFor: NameLookup): string | null {
  if (tapbacks.length === 0) return null;
  return tapbacks.map((t) => `${tapbackSymbol(t)} ${senderName(t.isFromMe, t.handle, nameFor)}`).join(", ");
}

/** Words for group events (renames, members coming and going) that carry no text of their own. */
export function describeEvent(message: Pick<Message, "itemType" | "groupTitle">): string | null {
  switch (message.itemType) {
    case 0:
      return null;
    case 1:
      return "changed the group's members";
    case 2:
      return message.groupTitle ? `renamed the group to "${message.groupTitle}"` : "renamed the group";
    case 3:
      return "left the group or changed its photo";
    default:
      return "group event";
  }
}

export interface ChatRef {
  id: number;
  name: string;
  isGroup: boolean;
}

export interface AttachmentView {
  id: number;
  name: string | null;
  mimeType: string | null;
  path: string | null;
  sizeBytes: number;
  isSticker: boolean;
}

export interface ReactionView {
  kind: TapbackKind;
  emoji: string;
  from: string;
}

export interface MessageView {
  id: number;
  guid: string;
  date: string;
  from: string;
  fromHandle: string | null;
  isFromMe: boolean;
  isRead: boolean;
  chat: ChatRef | null;
  service: string;
  text: string | null;
  attachments: AttachmentView[];
  reactions: ReactionView[];
  reactionSummary: string | null;
  isEdited: boolean;
  isUnsent: boolean;
  /** Earlier versions of edited text, oldest first. */
  editHistory: { date: string; text: string | null }[];
  replyToGuid: string | null;
  event: string | null;
}

export function attachmentView(attachment: Attachment): AttachmentView {
  return {
    id: attachment.rowid,
    name: attachment.name,
    mimeType: attachment.mimeType,
    path: attachment.path,
    sizeBytes: attachment.sizeBytes,
    isSticker: attachment.isSticker,
  };
}

export function messageView(message: Message, nameFor: NameLookup, chat: ChatRef | null): MessageView {
  const history = message.edit
    ? Object.keys(message.edit.history)
        .map(Number)
        .sort((a, b) => a - b)
        .flatMap((part) => message.edit?.history[part] ?? [])
    : [];
  return {
    id: message.rowid,
    guid: message.guid,
    date: message.date.toISOString(),
    from: senderName(message.isFromMe, message.handle, nameFor),
    fromHandle: message.handle?.id ?? null,
    isFromMe: message.isFromMe,
    isRead: message.isRead,
    chat,
    service: message.service,
    text: message.text,
    attachments: message.attachments.map(attachmentView),
    reactions: message.tapbacks.map((t) => ({
      kind: t.kind,
      emoji: tapbackSymbol(t),
      from: senderName(t.isFromMe, t.handle, nameFor),
    })),
    reactionSummary: summariseTapbacks(message.tapbacks, nameFor),
    isEdited: message.isEdited,
    isUnsent: message.isUnsent,
    editHistory: history.map((h) => ({ date: h.date.toISOString(), text: h.text })),
    replyToGuid: message.replyToGuid,
    event: describeEvent(message),
  };
}

/**
 * Lines fenced as third-party content, or a plain note when there is nothing to show. `names` are the
 * third-party names behind refs in the text before it ("chat:3 Weekend Crew", see `nameLine`): they go
 * first in the same block, and are fenced after the note when there are no lines.
 */
export function fencedLines(
  lines: readonly string[],
  emptyNote: string,
  names: readonly string[] = [],
): string {
  if (lines.length === 0) return withNames(emptyNote, names);
  return wrapUntrusted([...names, ...lines].map((line) => capText(line, MAX_LINE)).join("\n"));
}

/**
 * A backstop for lines built from other people's words: whatever a line holds (a long name, many of them),
 * it is cut visibly here. Fields are capped more tightly where lines are built (render-messages.ts).
 */
const MAX_LINE = 6000;

/**
 * "chat:3 Weekend Crew": what a ref in trusted text stands for, as list_chats and find_contact show it.
 * Group names and contact names are set by other people, so trusted text (headers, notes, errors) names
 * chats and contacts by ref only and these lines go inside a fence.
 */
export function nameLine(ref: string, name: string): string {
  return `${ref} ${shortName(name)}`;
}

/** `text`, then the name lines for its refs fenced on their own; just `text` when there are none. */
export function withNames(text: string, names: readonly string[]): string {
  return names.length === 0
    ? text
    : `${text}\n${wrapUntrusted(names.map((line) => capText(line, MAX_LINE)).join("\n"))}`;
}
