// Writes Messages databases (chat.db) from Apple's real schema, with rows shaped the way Messages.app fills
// them. Used by the demo generator and by tests that need a realistic chat.db on a machine with no Mac.
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { dateToAppleNanosBigInt, dateToAppleSeconds } from "../messages/apple-time.js";
import type { Service } from "../messages/types.js";
import { readSchemaSql } from "./schema.js";

export interface ChatDbWriterOptions {
  /** Also apply the columns macOS 26 (Tahoe) adds, and use its `any;` chat guid prefix by default. */
  macos26?: boolean;
  /**
   * Bulk-load mode for large generated databases: no rollback journal and no fsync while writing (a crash
   * leaves a broken file, so write to a temporary path and rename). The file is switched to WAL, like the
   * real chat.db, on `close()`. Default false.
   */
  bulk?: boolean;
  /** Makes default guids reproducible (default: `crypto.randomUUID()` upper-cased, as Messages writes them). */
  newGuid?: () => string;
  /** "Me": the account Messages sends from, stored in `account`, `account_login`, `destination_caller_id`. */
  me?: { email?: string; phone?: string };
}

export interface HandleInput {
  /** E.164 phone number (`+15550100123`) or lower-case email, as Messages stores it. */
  id: string;
  service: Service;
  /** Two-letter country code Messages stores (lower case); default "us". */
  country?: string | null;
  /** The number as originally typed, which Messages keeps for some SMS handles; default null. */
  uncanonicalizedId?: string | null;
}

export interface ChatInput {
  /** Default: `<service>;-;<identifier>` (one-to-one) or `<service>;+;<identifier>` (group); `any;` on macOS 26. */
  guid?: string;
  /** The other party's handle id for one-to-one chats; `chat<digits>` for groups. */
  identifier: string;
  service: Service;
  /** Group name. Omitted means "" — Messages stores an empty string, not NULL, for unnamed chats. */
  displayName?: string | null;
  isGroup: boolean;
  /** handle ROWIDs of the other participants (never "me"). */
  participants: number[];
  /** Default: the identifier for groups (Messages' room name), NULL for one-to-one chats. */
  roomName?: string | null;
  isArchived?: boolean;
  /** `chat.last_read_message_timestamp`. */
  lastReadMessageDate?: Date | null;
}

export interface MessageInput {
  /** Default: a new upper-case UUID. */
  guid?: string;
  /** The chat to join the message to (chat_message_join); null for an orphan message. */
  chatRowid: number | null;
  /**
   * handle ROWID: the sender for incoming messages. For my own messages Messages stores the other party
   * in one-to-one chats and 0 in group chats. Use 0 for none.
   */
  handleRowid: number;
  /** `message.text`. Since Ventura Messages leaves this NULL and stores only `attributedBody`. */
  text?: string | null;
  /** `message.attributedBody` typedstream (see `encodeAttributedBody` in src/messages/codec.ts). */
  attributedBody?: Buffer | null;
  date: Date;
  /**
   * Store the dates in seconds since 2001, as Macs before High Sierra (10.13) did and imported histories
   * still do, instead of nanoseconds. Default false.
   */
  datesInSeconds?: boolean;
  isFromMe: boolean;
  /** Default: true for my messages and for incoming messages with `dateRead`. */
  isRead?: boolean;
  dateRead?: Date | null;
  /** Default: `date` for delivered messages I sent, else null. */
  dateDelivered?: Date | null;
  service: Service;
  subject?: string | null;
  /** Tapback target: `p:<part>/<guid>` (or `bp:<guid>` for older rows). */
  associatedMessageGuid?: string | null;
  /** 2000–2007 add a tapback, 3000–3007 remove one. */
  associatedMessageType?: number;
  /** The emoji of an emoji tapback (type 2006 / 3006). */
  associatedMessageEmoji?: string | null;
  /** Length of the target text the tapback covers (`associated_message_range_length`). */
  associatedMessageRangeLength?: number;
  /** guid of the first message of the thread this one replies to. */
  threadOriginatorGuid?: string | null;
  /** `thread_originator_part`, e.g. "0:0:12" (part:start:length); default "0:0:0" when replying. */
  threadOriginatorPart?: string | null;
  /** `reply_to_guid`: Messages stores the previous message of the chat here. */
  replyToGuid?: string | null;
  /** Edit/unsend history bplist (see `encodeMessageSummaryInfo`). */
  messageSummaryInfo?: Buffer | null;
  dateEdited?: Date | null;
  dateRetracted?: Date | null;
  /** 0 normal, 1 member change, 2 group rename, 3 group event (left, photo…). */
  itemType?: number;
  /** New group name for a rename event (item_type 2). */
  groupTitle?: string | null;
  /** `group_action_type` for item_type 1/3 events. */
  groupActionType?: number;
  /** For member-change events: the handle added or removed. */
  otherHandle?: number;
  /** Usually left to the trigger Apple installs on message_attachment_join. */
  cacheHasAttachments?: boolean;
  expressiveSendStyleId?: string | null;
  balloonBundleId?: string | null;
  payloadData?: Buffer | null;
  isAudioMessage?: boolean;
  /** Number of message parts; default 1 when there is a body, else NULL. */
  partCount?: number | null;
  /** `error` code of a failed send; default 0. */
  error?: number;
}

export interface AttachmentInput {
  guid?: string;
  messageRowid: number;
  /** `attachment.filename`: absolute path, or `~/Library/Messages/Attachments/…` as Messages stores it. */
  path: string | null;
  /** `transfer_name`: the original file name. */
  name: string;
  mimeType: string | null;
  uti: string | null;
  totalBytes: number;
  isSticker?: boolean;
  /** What a sticker or Genmoji shows (`emoji_image_short_description`); its content identifier is derived. */
  imageDescription?: string | null;
  isOutgoing?: boolean;
  /** Default: now. Stored in seconds since 2001 like Messages does for attachments. */
  createdDate?: Date;
  /** 5 = finished; 0 = not downloaded. Default 5. */
  transferState?: number;
}

export interface RowRef {
  rowid: number;
  guid: string;
}

// Messages.app registers these SQL functions; Apple's triggers call them on deletes. No-ops let deletes
// and updates run in plain SQLite. Exported so tests opening a writable copy can register them too.
export function registerAppleTriggerFunctions(db: Database.Database): void {
  db.function("delete_attachment_path", { varargs: false }, (_path: unknown) => null);
  db.function("before_delete_attachment_path", (_rowid: unknown, _guid: unknown) => null);
  db.function("after_delete_message_plugin", (_rowid: unknown, _guid: unknown) => null);
}

// BigInt keeps nanosecond values exact when bound to SQLite INTEGER columns.
function nanosOrZero(date: Date | null | undefined): bigint | 0 {
  return date ? dateToAppleNanosBigInt(date) : 0;
}

/** Whole seconds since 2001, as pre-High Sierra chat.db rows store dates. */
function secondsOrZero(date: Date | null | undefined): bigint | 0 {
  return date ? BigInt(Math.floor(dateToAppleSeconds(date))) : 0;
}

function bool(value: boolean | undefined, fallback = false): 0 | 1 {
  return (value ?? fallback) ? 1 : 0;
}

/**
 * Splits Apple's `.schema` dump (one statement per line, `--` comments) into what must exist before rows
 * are written (PRAGMA, tables) and what can be built afterwards (indexes, triggers), keeping file order.
 */
export function splitSchema(sql: string): { tables: string[]; deferred: string[] } {
  const tables: string[] = [];
  const deferred: string[] = [];
  let pending = "";
  for (const line of sql.split("\n")) {
    if (pending === "" && (line.trim() === "" || line.trimStart().startsWith("--"))) continue;
    pending = pending ? `${pending}\n${line}` : line;
    const isTrigger = /^\s*CREATE\s+TRIGGER/i.test(pending);
    const complete = isTrigger ? /\bEND\s*;\s*$/i.test(pending) : /;\s*$/.test(pending);
    if (!complete) continue;
    // Partial indexes (WHERE …) stay: they cost nothing per ordinary row but a full scan to build later.
    const isFullIndex = /^\s*CREATE\s+(UNIQUE\s+)?INDEX/i.test(pending) && !/\)\s*WHERE\s/i.test(pending);
    (isTrigger || isFullIndex ? deferred : tables).push(pending);
    pending = "";
  }
  if (pending.trim() !== "") throw new Error(`chat schema ends inside a statement: ${pending.slice(0, 80)}`);
  return { tables, deferred };
}

/**
 * Builds a new chat.db. Every helper returns the ROWID (and guid) it wrote, to feed later rows:
 *
 *     const w = new ChatDbWriter(path);
 *     const ann = w.addHandle({ id: "+15550100123", service: "iMessage" });
 *     const chat = w.addChat({ identifier: "+15550100123", service: "iMessage", isGroup: false, participants: [ann] });
 *     const hi = w.addMessage({ chatRowid: chat, handleRowid: ann, text: "hi", date: new Date(), isFromMe: false, service: "iMessage" });
 *     w.addMessage({ chatRowid: chat, handleRowid: ann, text: "Loved “hi”", associatedMessageGuid: `p:0/${hi.guid}`,
 *       associatedMessageType: 2000, date: new Date(), isFromMe: true, service: "iMessage" });
 *     w.close();
 *
 * Writes go in one transaction per call unless wrapped in `transaction(fn)`; wrap bulk loads in it.
 * Prepared statements are cached, so a million rows take seconds.
 */
export class ChatDbWriter {
  readonly path: string;
  /** The open connection, for anything the helpers do not cover (it has the trigger functions registered). */
  readonly db: Database.Database;
  private readonly macos26: boolean;
  private readonly bulk: boolean;
  private readonly newGuid: () => string;
  private readonly account: string;
  private readonly callerId: string;
  private readonly accountGuid: string;
  private readonly statements: ReturnType<ChatDbWriter["prepareStatements"]>;
  private closed = false;
  /** CREATE INDEX / CREATE TRIGGER statements still to run (bulk mode). */
  private deferred: string[] = [];
  /** chat guids written so far (macOS 26 derives colliding ones differently, see addChat). */
  private readonly chatGuids = new Set<string>();
  /** chat ROWID → room_name, for `message.cache_roomnames` while triggers are deferred. */
  private readonly roomNames = new Map<number, string | null>();

  constructor(path: string, options: ChatDbWriterOptions = {}) {
    if (existsSync(path)) throw new Error(`${path} already exists; refusing to overwrite it`);
    mkdirSync(dirname(path), { recursive: true });
    this.path = path;
    this.macos26 = options.macos26 ?? false;
    this.bulk = options.bulk ?? false;
    this.newGuid = options.newGuid ?? (() => randomUUID().toUpperCase());
    const email = options.me?.email ?? "me@example.com";
    this.account = `E:${email}`;
    this.callerId = options.me?.phone ?? email;
    this.accountGuid = this.newGuid();
    this.db = new Database(path);
    try {
      registerAppleTriggerFunctions(this.db);
      const schema = splitSchema(readSchemaSql("chat"));
      this.db.exec(schema.tables.join("\n"));
      if (this.macos26) this.db.exec(readSchemaSql("chat-macos26-additions"));
      // Bulk mode builds indexes once at the end (much faster than maintaining 30 of them row by row) and so
      // must also hold back the triggers, whose lookups would scan unindexed tables. It fills the columns
      // those triggers maintain itself (see addMessage / addAttachment).
      this.deferred = this.bulk ? schema.deferred : [];
      if (!this.bulk) this.db.exec(schema.deferred.join("\n"));
      if (this.bulk) {
        // Nothing else reads the file while it is built; durability comes from the caller's rename.
        this.db.pragma("journal_mode = OFF");
        this.db.pragma("synchronous = OFF");
        this.db.pragma("cache_size = -262144"); // 256 MiB: keeps the random-order guid index in memory
        this.db.pragma("temp_store = MEMORY");
      }
      this.statements = this.prepareStatements();
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  private prepareStatements() {
    const db = this.db;
    return {
      handle: db.prepare(
        "INSERT INTO handle (id, country, service, uncanonicalized_id, person_centric_id) VALUES (?, ?, ?, ?, NULL)",
      ),
      chat: db.prepare(
        `INSERT INTO chat (guid, style, state, account_id, chat_identifier, service_name, room_name, account_login,
           is_archived, last_addressed_handle, display_name, group_id, is_filtered, successful_query,
           original_group_id, last_read_message_timestamp)
         VALUES (@guid, @style, 3, @accountId, @identifier, @service, @roomName, @accountLogin,
           @isArchived, @lastAddressedHandle, @displayName, @groupId, 0, 1, @groupId, @lastRead)`,
      ),
      chatHandle: db.prepare("INSERT INTO chat_handle_join (chat_id, handle_id) VALUES (?, ?)"),
      message: db.prepare(
        `INSERT INTO message (guid, text, replace, handle_id, subject, attributedBody, version, type, service,
           account, account_guid, error, date, date_read, date_delivered, is_delivered, is_finished, is_from_me,
           is_read, is_sent, is_audio_message, cache_has_attachments, item_type, other_handle, group_title,
           group_action_type, associated_message_guid, associated_message_type, balloon_bundle_id, payload_data,
           expressive_send_style_id, associated_message_range_location, associated_message_range_length,
           message_summary_info, destination_caller_id, reply_to_guid, thread_originator_guid,
           thread_originator_part, date_retracted, date_edited, part_count, associated_message_emoji,
           was_data_detected, has_dd_results, cache_roomnames)
         VALUES (@guid, @text, 0, @handleId, @subject, @attributedBody, 10, 0, @service,
           @account, @accountGuid, @error, @date, @dateRead, @dateDelivered, @isDelivered, 1, @isFromMe,
           @isRead, @isSent, @isAudio, @cacheHasAttachments, @itemType, @otherHandle, @groupTitle,
           @groupActionType, @associatedGuid, @associatedType, @balloon, @payload,
           @expressive, 0, @rangeLength,
           @summaryInfo, @callerId, @replyToGuid, @threadGuid,
           @threadPart, @dateRetracted, @dateEdited, @partCount, @emoji,
           1, 0, @roomNames)`,
      ),
      chatMessage: db.prepare(
        "INSERT INTO chat_message_join (chat_id, message_id, message_date) VALUES (?, ?, ?)",
      ),
      attachment: db.prepare(
        `INSERT INTO attachment (guid, created_date, start_date, filename, uti, mime_type, transfer_state,
           is_outgoing, transfer_name, total_bytes, is_sticker, hide_attachment, original_guid,
           emoji_image_content_identifier, emoji_image_short_description)
         VALUES (@guid, @created, @created, @path, @uti, @mimeType, @transferState,
           @isOutgoing, @name, @totalBytes, @isSticker, 0, @guid, @emojiId, @emojiDescription)`,
      ),
      messageAttachment: db.prepare(
        "INSERT INTO message_attachment_join (message_id, attachment_id) VALUES (?, ?)",
      ),
      markHasAttachments: db.prepare("UPDATE message SET cache_has_attachments = 1 WHERE ROWID = ?"),
    };
  }

  /** Runs `fn` in one transaction (nesting is fine). Use it around bulk inserts: it is much faster. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Inserts a `handle` row and returns its ROWID. */
  addHandle(input: HandleInput): number {
    if (!input.id) throw new Error("addHandle: id must be a non-empty string");
    if (!input.service) throw new Error("addHandle: service must be a non-empty string");
    const result = this.statements.handle.run(
      input.id,
      input.country === undefined ? "us" : input.country,
      input.service,
      input.uncanonicalizedId ?? null,
    );
    return Number(result.lastInsertRowid);
  }

  /** Inserts a `chat` row (style 43 group / 45 one-to-one) and its `chat_handle_join` rows; returns its ROWID. */
  addChat(input: ChatInput): number {
    if (!input.identifier) throw new Error("addChat: identifier must be a non-empty string");
    const kind = input.isGroup ? "+" : "-";
    let guid = input.guid ?? `${this.macos26 ? "any" : input.service};${kind};${input.identifier}`;
    // On macOS 26 one person's iMessage and SMS chats would share the `any;` guid. Databases upgraded to
    // Tahoe keep such older chats under their service-prefixed guid, so the second one gets that.
    if (input.guid === undefined && this.macos26 && this.chatGuids.has(guid)) {
      guid = `${input.service};${kind};${input.identifier}`;
    }
    this.chatGuids.add(guid);
    const groupId = input.isGroup ? this.newGuid() : null;
    const roomName = input.roomName !== undefined ? input.roomName : input.isGroup ? input.identifier : null;
    return this.transaction(() => {
      const result = this.statements.chat.run({
        guid,
        style: input.isGroup ? 43 : 45,
        accountId: this.accountGuid,
        identifier: input.identifier,
        service: input.service,
        roomName,
        accountLogin: this.account,
        isArchived: bool(input.isArchived),
        lastAddressedHandle: this.callerId,
        displayName: input.displayName ?? "",
        groupId,
        lastRead: nanosOrZero(input.lastReadMessageDate),
      });
      const chatRowid = Number(result.lastInsertRowid);
      this.roomNames.set(chatRowid, roomName);
      for (const handleRowid of input.participants) this.statements.chatHandle.run(chatRowid, handleRowid);
      return chatRowid;
    });
  }

  /** Inserts a `message` row (and its `chat_message_join` row); returns its ROWID and guid. */
  addMessage(input: MessageInput): RowRef {
    if (!(input.date instanceof Date) || Number.isNaN(input.date.getTime())) {
      throw new Error("addMessage: date must be a valid Date");
    }
    const guid = input.guid ?? this.newGuid();
    const stamp = input.datesInSeconds ? secondsOrZero : nanosOrZero;
    const date = stamp(input.date);
    const hasBody = (input.text ?? null) !== null || (input.attributedBody ?? null) !== null;
    const isRead = input.isRead ?? (input.isFromMe || Boolean(input.dateRead));
    const dateDelivered =
      input.dateDelivered !== undefined ? stamp(input.dateDelivered) : input.isFromMe ? date : 0;
    const threadGuid = input.threadOriginatorGuid ?? null;
    const row = {
      guid,
      text: input.text ?? null,
      handleId: input.handleRowid,
      subject: input.subject ?? null,
      attributedBody: input.attributedBody ?? null,
      service: input.service,
      account: this.account,
      accountGuid: this.accountGuid,
      error: input.error ?? 0,
      date,
      dateRead: stamp(input.dateRead),
      dateDelivered,
      isDelivered: 1,
      isFromMe: bool(input.isFromMe),
      isRead: isRead ? 1 : 0,
      isSent: bool(input.isFromMe),
      isAudio: bool(input.isAudioMessage),
      cacheHasAttachments: bool(input.cacheHasAttachments),
      itemType: input.itemType ?? 0,
      otherHandle: input.otherHandle ?? 0,
      groupTitle: input.groupTitle ?? null,
      groupActionType: input.groupActionType ?? 0,
      associatedGuid: input.associatedMessageGuid ?? null,
      associatedType: input.associatedMessageType ?? 0,
      balloon: input.balloonBundleId ?? null,
      payload: input.payloadData ?? null,
      expressive: input.expressiveSendStyleId ?? null,
      rangeLength: input.associatedMessageRangeLength ?? 0,
      summaryInfo: input.messageSummaryInfo ?? null,
      callerId: this.callerId,
      replyToGuid: input.replyToGuid ?? null,
      threadGuid,
      threadPart: input.threadOriginatorPart ?? (threadGuid ? "0:0:0" : null),
      dateRetracted: stamp(input.dateRetracted),
      dateEdited: stamp(input.dateEdited),
      partCount: input.partCount !== undefined ? input.partCount : hasBody ? 1 : null,
      emoji: input.associatedMessageEmoji ?? null,
      // Normally set by Apple's trigger on chat_message_join (which overwrites this when it runs).
      roomNames: input.chatRowid === null ? null : (this.roomNames.get(input.chatRowid) ?? null),
    };
    const insert = () => {
      const rowid = Number(this.statements.message.run(row).lastInsertRowid);
      if (input.chatRowid !== null) this.statements.chatMessage.run(input.chatRowid, rowid, date);
      return rowid;
    };
    // Outside a caller's transaction, keep the message and its join row together.
    const rowid = this.db.inTransaction ? insert() : this.transaction(insert);
    return { rowid, guid };
  }

  /** Inserts an `attachment` row linked to a message (message_attachment_join); returns its ROWID and guid. */
  addAttachment(input: AttachmentInput): RowRef {
    if (!input.name) throw new Error("addAttachment: name must be a non-empty string");
    if (!Number.isInteger(input.totalBytes) || input.totalBytes < 0) {
      throw new Error("addAttachment: totalBytes must be a non-negative integer");
    }
    const guid = input.guid ?? this.newGuid();
    const created = Math.floor(dateToAppleSeconds(input.createdDate ?? new Date()));
    const insert = () => {
      const rowid = Number(
        this.statements.attachment.run({
          guid,
          created,
          path: input.path,
          uti: input.uti,
          mimeType: input.mimeType,
          transferState: input.transferState ?? 5,
          isOutgoing: bool(input.isOutgoing),
          name: input.name,
          totalBytes: input.totalBytes,
          isSticker: bool(input.isSticker),
          emojiId: input.imageDescription ? `genmoji-${guid}` : null,
          emojiDescription: input.imageDescription ?? null,
        }).lastInsertRowid,
      );
      // Apple's trigger on this join sets message.cache_has_attachments = 1 (done here while it is deferred).
      this.statements.messageAttachment.run(input.messageRowid, rowid);
      if (this.deferred.length > 0) this.statements.markHasAttachments.run(input.messageRowid);
      return rowid;
    };
    const rowid = this.db.inTransaction ? insert() : this.transaction(insert);
    return { rowid, guid };
  }

  /** Sets `chat.display_name` (e.g. after writing a rename event). */
  setChatDisplayName(chatRowid: number, displayName: string): void {
    this.db.prepare("UPDATE chat SET display_name = ? WHERE ROWID = ?").run(displayName, chatRowid);
  }

  /** Finishes the file: switches to WAL like the real chat.db, checkpoints, and closes. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.deferred.length > 0) {
        this.db.exec(this.deferred.join("\n"));
        this.deferred = [];
      }
      if (this.bulk) {
        this.db.pragma("synchronous = NORMAL");
        this.db.pragma("journal_mode = WAL");
      }
    } finally {
      // Closing the last connection checkpoints the WAL into the main file and removes -wal/-shm.
      this.db.close();
    }
  }
}
