// Typed rows of the Messages store: what every other layer reads. Plain data only.

/** The transport a message or chat used. Messages.app also writes other strings on some systems. */
export type Service = "iMessage" | "SMS" | "RCS" | (string & {});

/** A row of `handle`: one phone number or email address on one service. */
export interface Handle {
  rowid: number;
  /** Phone number (often E.164) or email address exactly as Messages stored it. */
  id: string;
  service: Service;
}

export interface Chat {
  rowid: number;
  guid: string;
  /** `chat.chat_identifier`: the handle for one-to-one chats, `chatNNNN` for groups. */
  identifier: string;
  /** Name the user gave a group chat, if any. */
  displayName: string | null;
  isGroup: boolean;
  service: Service;
  participants: Handle[];
}

export interface Attachment {
  rowid: number;
  guid: string;
  /** Absolute path on the Mac (leading `~` expanded), or null when Messages never downloaded it. */
  path: string | null;
  /** Original file name as sent. */
  name: string | null;
  mimeType: string | null;
  uti: string | null;
  sizeBytes: number;
  isSticker: boolean;
  /** What a sticker or Genmoji shows, as Messages describes it (`emoji_image_short_description`). */
  imageDescription: string | null;
  createdAt: Date | null;
}

/** Classic tapbacks (2000–2005), emoji (2006) and sticker (2007) reactions. */
export type TapbackKind =
  | "love"
  | "like"
  | "dislike"
  | "laugh"
  | "emphasize"
  | "question"
  | "emoji"
  | "sticker";

export interface Tapback {
  kind: TapbackKind;
  /** The emoji for kind "emoji". */
  emoji: string | null;
  isFromMe: boolean;
  /** Who reacted; null when it was me. */
  handle: Handle | null;
  date: Date;
  /** Which part of a multi-part message it targets (the `p:N/` prefix), 0 when absent. */
  part: number;
}

// EditRecord, EditInfo, Mention and Translation are read-only: the store decodes a message's blobs once and
// hands the same values to every page that shows the message (decoded-blobs.ts).
export interface EditRecord {
  readonly date: Date;
  /** The text of that version; null when the blob could not be decoded. */
  readonly text: string | null;
}

export interface EditInfo {
  /** Message parts (0-based) that were edited. */
  readonly editedParts: readonly number[];
  /** Message parts that were unsent (retracted). */
  readonly unsentParts: readonly number[];
  /** Versions of each edited part, oldest first. Keyed by part index. */
  readonly history: Readonly<Record<number, readonly EditRecord[]>>;
}

/** Someone named with @ in a message: the name as written and the handle it confirms. */
export interface Mention {
  /** The mentioned name as it appears in the text. */
  readonly text: string;
  /** Phone number or email address Messages linked the mention to. */
  readonly handleId: string;
}

/** A translation Messages made of an incoming message (macOS 26). */
export interface Translation {
  readonly text: string;
  /** Language it was translated into (e.g. "en"), when recorded. */
  readonly language: string | null;
  /** Language of the original, when recorded. */
  readonly sourceLanguage: string | null;
}

/** The message a reply answers (its thread's first message). */
export interface ReplyTarget {
  guid: string;
  /** ROWID of that message, or null when it is not in this chat.db (deleted, or not synced). */
  rowid: number | null;
  /** Its first words, for "reply to #812 (Who's in for camping…)"; null when unknown or without text. */
  preview: string | null;
}

/**
 * What a group event did. `added`/`removed`: `actor` added or removed `target`; `left`: `actor` left;
 * `renamed`: `title` is the new name; photo and background changes; `number-changed`: `actor` changed number.
 */
export type GroupEventKind =
  | "added"
  | "removed"
  | "left"
  | "renamed"
  | "photo-changed"
  | "photo-removed"
  | "background-changed"
  | "background-removed"
  | "number-changed"
  | "other";

export interface GroupEvent {
  kind: GroupEventKind;
  /** Who did it: null when it was me (see `Message.isFromMe`) or unknown. */
  actor: Handle | null;
  /** Who was added or removed (null when that was me or unknown). */
  target: Handle | null;
  /** New group name for `renamed`. */
  title: string | null;
}

export interface Message {
  rowid: number;
  guid: string;
  /** Best available text: `message.text`, else decoded `attributedBody`; null for none (e.g. attachment only). */
  text: string | null;
  textSource: "text" | "attributedBody" | "none";
  /**
   * `text` as a person sees it: inline stickers and Genmoji as `[sticker]` / `[Genmoji: …]` markers, other
   * attachment placeholders (U+FFFC, the attachments are listed separately) removed; null when no text.
   */
  displayText: string | null;
  /** Voice messages: what Messages transcribed (`IMAudioTranscription`). */
  transcription: string | null;
  /** People mentioned with @. */
  mentions: readonly Mention[];
  /** Messages' translation of this message (macOS 26). */
  translation: Translation | null;
  date: Date;
  /**
   * Where this message sits in date order (newest first by `message.date`, ties by ROWID): pass it back as
   * `MessageQuery.cursor` to continue after it. Opaque text, exact for nanosecond dates.
   */
  position: string;
  /**
   * When the recipient read it (my messages, with read receipts on) or when I read it (incoming messages).
   */
  dateRead: Date | null;
  /** When my message was delivered to the recipient's device; null when not (yet) or unknown. */
  dateDelivered: Date | null;
  dateEdited: Date | null;
  isFromMe: boolean;
  isRead: boolean;
  /** The other party for incoming messages (and for my messages in one-to-one chats when known). */
  handle: Handle | null;
  service: Service;
  chatRowid: number | null;
  attachments: Attachment[];
  tapbacks: Tapback[];
  isEdited: boolean;
  isUnsent: boolean;
  edit: EditInfo | null;
  /** guid of the message this one replies to (thread), if any. */
  replyToGuid: string | null;
  /** That message, resolved: its ROWID and first words. Null when this is not a reply. */
  replyTo: ReplyTarget | null;
  /** Subject line (SMS/MMS), rarely used. */
  subject: string | null;
  /** Non-zero for group events: rename, member added/removed, etc. */
  itemType: number;
  /** New group name for a rename event. */
  groupTitle: string | null;
  /** What a group event (itemType 1–3) did and to whom; null for ordinary messages. */
  groupEvent: GroupEvent | null;
  /** Messages "expressive send" style id, if any. */
  expressiveSendStyle: string | null;
}

/**
 * A chat with the figures a chat list shows. `Counted`: whether listChats was asked for message counts
 * (ListChatsOptions.messageCounts); without them `messageCount` is null.
 */
export interface ChatSummary<Counted extends boolean = true> extends Chat {
  lastMessage: Message | null;
  lastActivity: Date | null;
  messageCount: Counted extends true ? number : number | null;
  unreadCount: number;
}

export interface ListChatsOptions<Counted extends boolean = true> {
  limit: number;
  offset?: number;
  unreadOnly?: boolean;
  since?: Date;
  /**
   * Count each listed chat's messages (default true). The first count of a chat in a process reads its whole
   * slice of chat_message_join (12–16 ms of CPU for the 20 most recent chats at 1M messages), and a deletion
   * starts the counts again: callers that show no count say false.
   */
  messageCounts?: Counted;
}

/**
 * What to read. Messages come in date order (`message.date`, ties by ROWID), newest first unless `order` is "asc".
 *
 * The time window is two instants, `since` (inclusive) and `until` (exclusive): callers turn what a person said
 * ("2025-03-01", "last Tuesday in Kolkata") into instants; the store matches them against rows dated in
 * nanoseconds and in seconds (Macs before High Sierra, imported histories) alike.
 */
export interface MessageQuery {
  /** Only messages at or after this instant. */
  since?: Date;
  /** Only messages before this instant (exclusive: an inclusive end day is "since the next local midnight"). */
  until?: Date;
  /** Only these chats (chat ROWIDs). */
  chatRowids?: number[];
  /** Only messages whose `handle_id` is one of these handle ROWIDs (i.e. sent by / to them). */
  handleRowids?: number[];
  /** Only incoming messages not yet read. */
  unreadOnly?: boolean;
  /** Paging: continue after this `Message.position` (the last message of the previous page), in this order. */
  cursor?: string;
  /**
   * Only messages with a ROWID above this ("what arrived since", for polling). The first `limit` such rows in
   * arrival (ROWID) order are read, then returned in date order, so continuing from their highest ROWID
   * never skips one.
   */
  afterRowid?: number;
  /** Maximum number of messages (tapbacks are attached, never counted). */
  limit: number;
  /** Default "desc" (newest first). */
  order?: "asc" | "desc";
}

export interface SearchQuery extends Omit<MessageQuery, "unreadOnly"> {
  /** Text to look for, case-insensitively. */
  text: string;
  /**
   * "substring" (default): the text appears as is. "fuzzy": every word of the query matches a word of
   * the message allowing small typos (edit distance 1 for words of 4+ letters, 2 for 8+).
   */
  mode?: "substring" | "fuzzy";
}

export interface AttachmentQuery {
  since?: Date;
  until?: Date;
  chatRowids?: number[];
  handleRowids?: number[];
  /** e.g. "image/" or "application/pdf". */
  mimePrefix?: string;
  beforeRowid?: number;
  limit: number;
}

export interface AttachmentWithMessage extends Attachment {
  messageRowid: number;
  messageDate: Date;
  isFromMe: boolean;
  handle: Handle | null;
  chatRowid: number | null;
}

/** What the rest of the program may ask of chat.db. Read-only by construction. */
export interface MessagesReader {
  readonly path: string;
  close(): void;
  /** Highest message ROWID: a watermark for "new since". */
  maxRowid(): number;
  /** chat.db's handles; the same array until the table is read again (after chat.db changed). */
  listHandles(): readonly Handle[];
  getChat(ref: number | string): Chat | null;
  listChats<Counted extends boolean = true>(options: ListChatsOptions<Counted>): ChatSummary<Counted>[];
  /** Chats where any of these handles takes part. */
  chatsWithHandles(handleRowids: number[]): Chat[];
  getMessages(query: MessageQuery): Message[];
  getMessage(ref: number | string): Message | null;
  /** Correct (but linear) search over every message's decoded text, attributedBody included. */
  searchMessages(query: SearchQuery): Message[];
  getAttachment(rowid: number): AttachmentWithMessage | null;
  searchAttachments(query: AttachmentQuery): AttachmentWithMessage[];
  /** How a handle has been reached: services seen and the last time for each. */
  serviceHistory(handleId: string): { service: Service; lastUsed: Date | null; messageCount: number }[];
  /**
   * Optional: why the last `searchMessages` answer may be incomplete (e.g. the search index is still being
   * built, so only part of the history was searched), as a sentence to show with the results; null when complete.
   */
  searchNotice?(): string | null;
  /**
   * Optional: get searches ready (e.g. build a search index) and resolve when they are, reporting progress.
   * Readers without anything to prepare leave it out; searching works either way.
   */
  prepareSearch?(options?: {
    onProgress?: (done: number, total: number) => void;
    signal?: AbortSignal;
  }): Promise<void>;
}
