// What a chat.db `message` row means to a person: its text as shown (stickers and Genmoji marked), voice
// transcription, mentions, translation, receipts, edits versus unsends, and group events. Pure functions
// over a selected row; the store runs the SQL and hands the rows here.
import { appleNanosToDate } from "./apple-time.js";
import { DecodedBlobs } from "./decoded-blobs.js";
import { readSummaryInfo, type SummaryInfo } from "./summary-info.js";
import { foldTapbacks, type TapbackEvent } from "./tapbacks.js";
import { textColumn } from "./text-match.js";
import { attributedBodyText, decodeAttributedBody } from "./typedstream.js";
import type {
  Attachment,
  GroupEvent,
  GroupEventKind,
  Handle,
  Mention,
  Message,
  ReplyTarget,
  Service,
} from "./types.js";

/** Raw message row as the store selects it (optional columns are NULL when a chat.db lacks them). */
export interface MessageRow {
  ROWID: number;
  guid: string;
  /** Usually text; any SQLite type in a damaged database (read through `textColumn`). */
  text: unknown;
  attributedBody: Buffer | null;
  handle_id: number | null;
  service: string | null;
  date: number | bigint | null;
  date_read: number | bigint | null;
  date_delivered: number | bigint | null;
  date_edited: number | bigint | null;
  date_retracted: number | bigint | null;
  is_from_me: number;
  is_read: number;
  subject: unknown;
  item_type: number | null;
  group_title: unknown;
  group_action_type: number | null;
  other_handle: number | null;
  expressive_send_style_id: string | null;
  thread_originator_guid: string | null;
  message_summary_info: Buffer | null;
  associated_message_guid: string | null;
  associated_message_type: number | null;
  associated_message_emoji: string | null;
  part_count: number | null;
  cache_has_attachments: number | null;
  chat_id: number | null;
}

/** Columns of `message` that MessageRow reads beyond those every chat.db has (ROWID, guid, text, …). */
export const OPTIONAL_MESSAGE_COLUMNS = [
  "attributedBody",
  "service",
  "date_read",
  "date_delivered",
  "date_edited",
  "date_retracted",
  "is_read",
  "subject",
  "item_type",
  "group_title",
  "group_action_type",
  "other_handle",
  "expressive_send_style_id",
  "thread_originator_guid",
  "message_summary_info",
  "associated_message_guid",
  "associated_message_type",
  "associated_message_emoji",
  "part_count",
  "cache_has_attachments",
] as const;

const OBJECT_REPLACEMENT = "\ufffc";
const TRANSCRIPTION_KEY = "IMAudioTranscription";
const MENTION_KEY = "__kIMMentionConfirmedMention";
const FILE_TRANSFER_KEY = "__kIMFileTransferGUIDAttributeName";
// Decoding every attribute run costs more than decoding the text alone, so it is done only for bodies that
// carry something worth it (the keys are stored as plain ASCII inside the blob).
const RUN_KEYS_WORTH_DECODING = [TRANSCRIPTION_KEY, MENTION_KEY, FILE_TRANSFER_KEY].map((k) =>
  Buffer.from(k, "latin1"),
);

export interface BodyFeatures {
  readonly text: string | null;
  readonly transcription: string | null;
  readonly mentions: readonly Mention[];
  /** The file-transfer guid at each U+FFFC, in order (null where the body does not say). */
  readonly placeholderGuids: readonly (string | null)[];
}

/** What the attributedBody adds to a row; its text is decoded only when `needText` (no `text` column value). */
function decodeBody(blob: unknown, needText: boolean): BodyFeatures {
  const none: BodyFeatures = { text: null, transcription: null, mentions: [], placeholderGuids: [] };
  // A damaged database can hold any type here; only bytes are a body.
  if (!Buffer.isBuffer(blob) || blob.length === 0) return none;
  if (!RUN_KEYS_WORTH_DECODING.some((key) => blob.includes(key))) {
    return needText ? { ...none, text: attributedBodyText(blob) } : none;
  }
  const decoded = decodeAttributedBody(blob);
  if (!decoded.ok) return { ...none, text: attributedBodyText(blob) };
  const transcriptions: string[] = [];
  const mentions: Mention[] = [];
  const placeholderGuids: (string | null)[] = [];
  for (const run of decoded.runs) {
    const transcription = run.attributes[TRANSCRIPTION_KEY];
    if (typeof transcription === "string" && transcription.trim() !== "") transcriptions.push(transcription);
    const mention = run.attributes[MENTION_KEY];
    if (typeof mention === "string" && mention !== "") {
      mentions.push({ text: decoded.text.slice(run.start, run.start + run.length), handleId: mention });
    }
    for (let i = run.start; i < run.start + run.length; i++) {
      if (decoded.text[i] !== OBJECT_REPLACEMENT) continue;
      const guid = run.attributes[FILE_TRANSFER_KEY];
      placeholderGuids.push(typeof guid === "string" ? guid : null);
    }
  }
  return {
    text: decoded.text,
    transcription: transcriptions.length > 0 ? transcriptions.join("\n") : null,
    mentions,
    placeholderGuids,
  };
}

/** `[sticker: pink poodle]`, `[Genmoji: cat in sunglasses]`, or null for an ordinary attachment. */
function inlineMarker(attachment: Attachment | undefined): string | null {
  if (!attachment) return null;
  // Some stickers carry an internal label ("heart.png.accessibilityLabel") rather than words.
  const description =
    attachment.imageDescription && !/\.accessibilityLabel$/.test(attachment.imageDescription)
      ? attachment.imageDescription
      : null;
  if (attachment.isSticker) return description ? `[sticker: ${description}]` : "[sticker]";
  if (description) return `[Genmoji: ${description}]`;
  return null;
}

/**
 * The text as a person sees it: each U+FFFC that stands for an inline sticker or Genmoji becomes a marker,
 * any other (a photo, a file: listed separately) is dropped. The placeholder's own file-transfer guid finds
 * its attachment; without one, placeholders and attachments are paired in order.
 */
export function displayTextOf(
  text: string | null,
  attachments: readonly Attachment[],
  placeholderGuids: readonly (string | null)[] = [],
): string | null {
  if (text === null) return null;
  if (!text.includes(OBJECT_REPLACEMENT)) return text;
  const byGuid = new Map(attachments.map((a) => [a.guid, a]));
  let index = 0;
  const shown = text.replace(/\ufffc/g, () => {
    const guid = placeholderGuids[index];
    const attachment = (guid ? byGuid.get(guid) : undefined) ?? attachments[index];
    index++;
    const marker = inlineMarker(attachment);
    return marker === null ? "" : ` ${marker} `;
  });
  return shown.replace(/ {2,}/g, " ").trim();
}

/** "Who's in for camping the weekend…": the first words of a message, for reply references. */
export function previewOf(text: string | null, maxWords = 6, maxChars = 48): string | null {
  if (text === null) return null;
  const words = text
    .replace(/\ufffc/g, " ")
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  if (words.length === 0) return null;
  let preview = words.slice(0, maxWords).join(" ");
  let cut = words.length > maxWords;
  if ([...preview].length > maxChars) {
    preview = [...preview].slice(0, maxChars).join("").trimEnd();
    cut = true;
  }
  return cut ? `${preview}…` : preview;
}

/** The text of a row as stored: `text` when non-empty, else the decoded attributedBody. */
export function rowText(row: Pick<MessageRow, "text" | "attributedBody">): string | null {
  const text = textColumn(row.text);
  if (text) return text;
  return row.attributedBody instanceof Uint8Array ? attributedBodyText(row.attributedBody) : null;
}

/**
 * Group events (item_type 1–3), read the way Messages shows them: (1, 0) added, (1, 1) removed — with the
 * person in `other_handle` — (2) renamed, and (3, n) left / photo changed / photo removed / background.
 */
export function groupEventOf(
  row: Pick<
    MessageRow,
    "item_type" | "group_action_type" | "other_handle" | "handle_id" | "is_from_me" | "group_title"
  >,
  handle: (rowid: number | null | undefined) => Handle | null,
): GroupEvent | null {
  const itemType = row.item_type ?? 0;
  if (itemType < 1 || itemType > 3) return null;
  const action = row.group_action_type ?? 0;
  const actor = row.is_from_me === 1 ? null : handle(row.handle_id);
  const target = handle(row.other_handle);
  let kind: GroupEventKind = "other";
  if (itemType === 1) {
    if (action === 0 && row.other_handle && row.other_handle === row.handle_id && row.is_from_me !== 1)
      kind = "number-changed";
    else if (action === 0) kind = "added";
    else if (action === 1) kind = "removed";
  } else if (itemType === 2) {
    kind = "renamed";
  } else {
    const byAction: Record<number, GroupEventKind> = {
      0: "left",
      1: "photo-changed",
      2: "photo-removed",
      4: "background-changed",
      6: "background-removed",
    };
    kind = byAction[action] ?? "other";
  }
  return { kind, actor, target, title: itemType === 2 ? textColumn(row.group_title) : null };
}

export interface RowContext {
  handle(rowid: number | null | undefined): Handle | null;
  /** Reply targets by guid, looked up in one batch for the rows being mapped. */
  replyTargets: ReadonlyMap<string, ReplyTarget>;
  /** What rows' blobs decoded to, kept across reads (the store's: see decoded-blobs.ts). */
  blobs: MessageBlobs;
}

/** A message's two decoded blobs: its body's features (per "is the text column empty") and its summary info. */
export interface MessageBlobs {
  body: DecodedBlobs<BodyFeatures>;
  summary: DecodedBlobs<SummaryInfo>;
}

export function messageBlobs(): MessageBlobs {
  return {
    body: new DecodedBlobs(decodeBody),
    summary: new DecodedBlobs((blob) => readSummaryInfo(blob)),
  };
}

/**
 * One selected row, its attachments and its reactions → the Message every other layer reads. `position`:
 * where the store's date order puts it (an opaque cursor, see Message.position).
 */
export function messageFromRow(
  row: MessageRow,
  attachments: Attachment[],
  tapbackEvents: readonly TapbackEvent[],
  context: RowContext,
  position: string,
): Message {
  const summary = context.blobs.summary.get(row.ROWID, row.message_summary_info, false);
  const edit = summary.edit;
  const stored = textColumn(row.text) || null;
  // Even when `text` is set, the blob may carry a transcription or mentions (Messages writes both columns).
  const features = context.blobs.body.get(row.ROWID, row.attributedBody, stored === null);
  let text: string | null = stored;
  let textSource: Message["textSource"] = text !== null ? "text" : "none";
  if (text === null && features.text) {
    text = features.text;
    textSource = "attributedBody";
  }
  const dateEdited = appleNanosToDate(row.date_edited);
  const dateRetracted = appleNanosToDate(row.date_retracted);
  const isFromMe = row.is_from_me === 1;
  const replyGuid = row.thread_originator_guid || null;
  // A plain unsend also sets date_edited; message_summary_info says which parts were edited and which
  // unsent, so it decides when present. Without it, date_edited alone (and no retraction) means an edit.
  const isEdited =
    (edit?.editedParts.length ?? 0) > 0 ||
    (summary.edit === null && dateEdited !== null && dateRetracted === null);
  return {
    rowid: row.ROWID,
    guid: row.guid,
    text,
    textSource,
    displayText: displayTextOf(text, attachments, features.placeholderGuids),
    transcription: features.transcription,
    mentions: features.mentions,
    translation: summary.translation,
    date: appleNanosToDate(row.date) ?? new Date(0),
    position,
    dateRead: appleNanosToDate(row.date_read),
    dateDelivered: isFromMe ? appleNanosToDate(row.date_delivered) : null,
    dateEdited,
    isFromMe,
    isRead: isFromMe || row.is_read === 1,
    handle: context.handle(row.handle_id),
    service: (row.service ?? "iMessage") as Service,
    chatRowid: row.chat_id,
    attachments,
    tapbacks: foldTapbacks(tapbackEvents),
    isEdited,
    isUnsent: (edit?.unsentParts.length ?? 0) > 0 || dateRetracted !== null,
    edit,
    replyToGuid: replyGuid,
    replyTo: replyGuid
      ? (context.replyTargets.get(replyGuid) ?? { guid: replyGuid, rowid: null, preview: null })
      : null,
    subject: textColumn(row.subject),
    itemType: row.item_type ?? 0,
    groupTitle: textColumn(row.group_title),
    groupEvent: groupEventOf(row, (rowid) => context.handle(rowid)),
    expressiveSendStyle: row.expressive_send_style_id,
  };
}
