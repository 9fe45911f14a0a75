// Pure presentation: chat.db rows → the structured objects tools return and the text lines a model reads.
// Anything that came from other people (message text, names, file names) is third-party content; in text
// output it is fenced in an <untrusted-message-content> block whose delimiters cannot be forged from inside.
import type { Attachment, Chat, Handle, Message, Tapback, TapbackKind } from "../messages/types.js";
import { isoInZone, systemTimeZone } from "../util/dates.js";
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

/**
 * Words for a group event (it carries no text of its own), as Messages shows it; the line's sender is who
 * did it: "added Mia Lopez", "left the group", "changed the group photo".
 */
export function describeEvent(
  message: Pick<Message, "itemType" | "groupTitle" | "groupEvent">,
  nameFor: NameLookup,
): string | null {
  const event = message.groupEvent;
  if (message.itemType === 0 || event === null) return null;
  // The person added or removed; chat.db leaves it empty when it was me (or does not say).
  const target = event.target ? (nameFor(event.target.id) ?? event.target.id) : null;
  switch (event.kind) {
    case "added":
      return target ? `added ${target}` : "added someone to the group";
    case "removed":
      return target ? `removed ${target}` : "removed someone from the group";
    case "left":
      return "left the group";
    case "renamed":
      return event.title ? `renamed the group to "${event.title}"` : "removed the group's name";
    case "photo-changed":
      return "changed the group photo";
    case "photo-removed":
      return "removed the group photo";
    case "background-changed":
      return "changed the chat background";
    case "background-removed":
      return "removed the chat background";
    case "number-changed":
      return "changed their phone number";
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
  /** What a sticker or Genmoji shows (Messages' own words); null for other attachments. */
  description: string | null;
}

export interface ReactionView {
  kind: TapbackKind;
  emoji: string;
  from: string;
}

export interface MessageView {
  id: number;
  guid: string;
  /** ISO 8601 with the offset of the result's time zone (every date in a view is written so). */
  date: string;
  from: string;
  fromHandle: string | null;
  /** My message in a one-to-one chat: whom it went to ("Noah Patel"); null otherwise. */
  to: string | null;
  isFromMe: boolean;
  isRead: boolean;
  chat: ChatRef | null;
  service: string;
  /** The text as Messages shows it: inline stickers and Genmoji as [sticker: …] / [Genmoji: …]. */
  text: string | null;
  /** A voice message: what Messages transcribed. */
  transcription: string | null;
  /** Who was @mentioned (names, or the phone/email when not in Contacts). */
  mentions: string[];
  /** Messages' translation of the text (macOS 26). */
  translation: { text: string; language: string | null } | null;
  attachments: AttachmentView[];
  reactions: ReactionView[];
  reactionSummary: string | null;
  isEdited: boolean;
  isUnsent: boolean;
  /** Earlier versions of edited text, oldest first. */
  editHistory: { date: string; text: string | null }[];
  replyToGuid: string | null;
  /** The message this one replies to: its id (null when not in this chat.db) and first words. */
  replyTo: { id: number | null; preview: string | null } | null;
  /** My messages: when it reached their device, and when they read it (with read receipts on). */
  deliveredAt: string | null;
  readAt: string | null;
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
    description: attachment.imageDescription,
  };
}

/**
 * A message as tools return it. Dates are written in `timeZone` (the result's, default the Mac's own) with
 * their offset; names come from `nameFor`; `chat` is the chat it is in (null for an orphan row).
 */
export function messageView(
  message: Message,
  nameFor: NameLookup,
  chat: ChatRef | null,
  timeZone: string = systemTimeZone(),
): MessageView {
  const history = message.edit
    ? Object.keys(message.edit.history)
        .map(Number)
        .sort((a, b) => a - b)
        .flatMap((part) => message.edit?.history[part] ?? [])
    : [];
  const iso = (date: Date | null) => (date === null ? null : isoInZone(date, timeZone));
  // In a one-to-one chat my message's handle is the other person (when Messages recorded it).
  const to =
    message.isFromMe && chat !== null && !chat.isGroup
      ? message.handle
        ? (nameFor(message.handle.id) ?? message.handle.id)
        : chat.name
      : null;
  return {
    id: message.rowid,
    guid: message.guid,
    date: isoInZone(message.date, timeZone),
    from: senderName(message.isFromMe, message.handle, nameFor),
    fromHandle: message.handle?.id ?? null,
    to,
    isFromMe: message.isFromMe,
    isRead: message.isRead,
    chat,
    service: message.service,
    text: message.displayText,
    transcription: message.transcription,
    mentions: message.mentions.map((m) => nameFor(m.handleId) ?? m.text),
    translation: message.translation
      ? { text: message.translation.text, language: message.translation.language }
      : null,
    attachments: message.attachments.map(attachmentView),
    reactions: message.tapbacks.map((t) => ({
      kind: t.kind,
      emoji: tapbackSymbol(t),
      from: senderName(t.isFromMe, t.handle, nameFor),
    })),
    reactionSummary: summariseTapbacks(message.tapbacks, nameFor),
    isEdited: message.isEdited,
    isUnsent: message.isUnsent,
    editHistory: history.map((h) => ({ date: isoInZone(h.date, timeZone), text: h.text })),
    replyToGuid: message.replyToGuid,
    replyTo: message.replyTo ? { id: message.replyTo.rowid, preview: message.replyTo.preview } : null,
    deliveredAt: message.isFromMe ? iso(message.dateDelivered) : null,
    readAt: message.isFromMe ? iso(message.dateRead) : null,
    event: describeEvent(message, nameFor),
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
