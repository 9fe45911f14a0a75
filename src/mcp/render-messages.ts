// Messages as the model reads them: one short line each, inside the fence, with only what it needs to
// understand the conversation and to call again (message ids for since_rowid and message_id, attachment ids
// for get_attachment, chat refs for chat= and send_message). Nothing that is empty, false or null is
// written, a date is written once per day, and long text is cut visibly. Budget: ≤ 110 characters per
// message for a conversation of short texts, everything included (bench/model-budget.ts measures it).
//
// To show a new message field, add one entry to MESSAGE_TAGS (or to messageBody for what replaces the
// text): nothing else changes.
import { instantOf, shortTimeInZone, systemTimeZone, timeZoneNote, wallDayTime } from "../util/dates.js";
import type { AttachmentView, MessageView } from "./format.js";
import { wrapUntrusted } from "./render-fence.js";
import { capText, formatBytes, TEXT_CAPS } from "./render-truncate.js";

/**
 * "2025-03-01 14:05" in `timeZone` (default: the Mac's own). For lines that carry their own date (list
 * results, schedules); message pages write the day once on a day line and the time on each message.
 */
export function localTimestamp(date: Date, timeZone: string = systemTimeZone()): string {
  return shortTimeInZone(date, timeZone);
}

/**
 * Collapses line breaks so one message stays one line, and drops U+FFFC (the placeholder Messages puts
 * where an attachment sits; the attachment is listed separately).
 */
export function oneLine(text: string): string {
  // Most names and texts have neither: one test instead of two replaces that copy the string (every line of a
  // page calls this for its names and text).
  if (!ONE_LINE_WORK.test(text)) return text.trim();
  return text
    .replace(/\uFFFC/g, "")
    .replace(/\r\n|\r|\n|\u2028|\u2029/g, " ⏎ ")
    .trim();
}

const ONE_LINE_WORK = /[\uFFFC\r\n\u2028\u2029]/;

/** A name as shown inside the fence: one line, at most TEXT_CAPS.name characters. */
export function shortName(name: string): string {
  return capText(oneLine(name), TEXT_CAPS.name);
}

/** "[attachment 55: beach.jpg, 200 KB]"; the type only when the name does not say it. */
export function attachmentTag(a: AttachmentView): string {
  // What a sticker or Genmoji shows is written in the text where it sits ([sticker: cactus]); the tag
  // only gives its id for get_attachment.
  if (a.isSticker) return `[sticker ${a.id}]`;
  if (a.description) return `[Genmoji ${a.id}]`;
  const name = a.name ? shortName(a.name) : null;
  const typed = name !== null && /\.[A-Za-z0-9]{1,5}$/.test(name);
  const details = [name, !typed && a.mimeType ? a.mimeType : null, formatBytes(a.sizeBytes)].filter(
    (part): part is string => part !== null,
  );
  return `[attachment ${a.id}: ${details.join(", ")}]`;
}

/** Where a cut message's marker points: the one call that shows all of its text (TEXT_CAPS.singleMessageText). */
export function wholeTextHint(view: MessageView): string {
  return `all of it: get_recent_messages message_id ${view.id}`;
}

export interface MessageLineOptions {
  /** Write the chat ref ("[chat:3]") on the line, and whom my one-to-one messages went to: pages that hold more than one chat. */
  showChat?: boolean;
  /** Write the date on the line (no day lines around it), as in list_chats' "last:" lines. */
  showDate?: boolean;
  /** How much of the text to show (default TEXT_CAPS.messageText). */
  textCap?: number;
  /** What the truncation marker says about getting the rest (default wholeTextHint; null for nothing). */
  fullTextHint?: ((view: MessageView) => string | undefined) | null;
  /** The IANA zone times are written in (default: the Mac's own). */
  timeZone?: string;
  /** The messages whose delivery is worth a tag (messageLines: my newest in each chat); default all. */
  deliveredShown?: ReadonlySet<number>;
}

type LineContext = MessageLineOptions & { timeZone: string };

/** What stands after the sender: the text, or words for an event, an unsent or a voice message. */
function messageBody(view: MessageView, options: MessageLineOptions): string | null {
  const text = view.text === null ? "" : oneLine(view.text);
  if (view.isUnsent && text === "") return "(unsent)";
  if (view.event) return `(${capText(oneLine(view.event), TEXT_CAPS.name * 2)})`;
  const cap = options.textCap ?? TEXT_CAPS.messageText;
  if (text !== "")
    return capText(
      text,
      cap,
      options.fullTextHint === null ? undefined : (options.fullTextHint ?? wholeTextHint)(view),
    );
  // A voice message's text is only its placeholder: what Messages transcribed stands in for it.
  if (view.transcription) return `(voice) ${capText(oneLine(view.transcription), cap)}`;
  return view.attachments.length === 0 ? "(no text)" : null;
}

/** "14:07" on the message's own day (`sentDay`), else "2025-03-02 09:00": when a receipt came. */
function receiptTime(at: string, sentDay: string, timeZone: string): string {
  const when = wallDayTime(new Date(instantOf(at)), timeZone);
  return when.day === sentDay ? when.time : `${when.day} ${when.time}`;
}

/**
 * My message's receipt: `[read 14:07]` when they read it, else `[delivered]` (`[delivered 14:30]` when it
 * took longer than the minute it was sent in). Like Messages, a page says "delivered" only under my newest
 * message of each chat (`options.deliveredShown`); read times are on every message, they differ.
 */
function receiptTag(v: MessageView, options: LineContext, sent: WallTime): string | null {
  if (!v.isFromMe || v.event) return null;
  if (v.readAt) return `[read ${receiptTime(v.readAt, sent.day, options.timeZone)}]`;
  if (!v.deliveredAt || (options.deliveredShown && !options.deliveredShown.has(v.id))) return null;
  const late = instantOf(v.deliveredAt) - sent.ms > 60_000;
  return late ? `[delivered ${receiptTime(v.deliveredAt, sent.day, options.timeZone)}]` : "[delivered]";
}

/** `[reply to #812 (Who's in for camping…)]`: what a reply answers, by id, with its first words. */
function replyTag(v: MessageView): string | null {
  if (!v.replyTo) return null;
  const preview = v.replyTo.preview ? ` (${capText(oneLine(v.replyTo.preview), TEXT_CAPS.name)})` : "";
  // A reply to a message this chat.db does not hold (deleted, or never synced here) has no id to read.
  return v.replyTo.id === null ? `[reply${preview}]` : `[reply to #${v.replyTo.id}${preview}]`;
}

/** When a message was sent, in the page's zone: read once per message, used by its day line, time and receipts. */
interface WallTime {
  ms: number;
  day: string;
  weekday: string;
  time: string;
}

function wallTimeOf(view: MessageView, timeZone: string): WallTime {
  const date = new Date(instantOf(view.date));
  // Field by field, not `{ ms, ...wallDayTime() }`: Node 20 builds objects with a spread slowly (~1.5 µs here).
  const { day, weekday, time } = wallDayTime(date, timeZone);
  return { ms: date.getTime(), day, weekday, time };
}

/** The bracketed notes after a message's text, in this order; each says nothing when it does not apply. */
export const MESSAGE_TAGS: readonly ((
  view: MessageView,
  options: LineContext,
  sent: WallTime,
) => string | null)[] = [
  (v) => (v.attachments.length > 0 ? v.attachments.map(attachmentTag).join(" ") : null),
  // A voice message with words of its own (rare) keeps them; the transcription follows.
  (v) =>
    v.transcription && v.text !== null && oneLine(v.text) !== ""
      ? `[voice: ${capText(oneLine(v.transcription), TEXT_CAPS.messageText)}]`
      : null,
  (v) =>
    v.translation ? `[translation: ${capText(oneLine(v.translation.text), TEXT_CAPS.messageText)}]` : null,
  (v) => (v.mentions.length > 0 ? `[${v.mentions.map((name) => `@${shortName(name)}`).join(", ")}]` : null),
  (v) =>
    v.reactions.length > 0
      ? `[${v.reactions.map((r) => `${capText(r.emoji, 16)} ${shortName(r.from)}`).join(", ")}]`
      : null,
  (v) => (v.isEdited ? "[edited]" : null),
  (v) => (v.isUnsent && v.text !== null && oneLine(v.text) !== "" ? "[partly unsent]" : null),
  replyTag,
  receiptTag,
  (v) => (!v.isFromMe && !v.isRead && !v.event ? "[unread]" : null),
  // iMessage is the norm; SMS and RCS are worth knowing (no read receipts, green bubbles, group limits).
  (v) => (v.service && v.service !== "iMessage" ? `[${capText(v.service, 16)}]` : null),
];

/**
 * One line per message, e.g. `#812 14:05 Alice Smith: See you there [❤️ Me] [edited]`, with
 * `[chat:3]` before the sender (and `Me → Noah Patel` for my one-to-one messages) when the page holds
 * several chats, and the date when asked. The line is third-party content: it goes inside the fence
 * (renderMessagePage does that).
 */
export function messageLine(view: MessageView, options: MessageLineOptions = {}): string {
  const timeZone = options.timeZone ?? systemTimeZone();
  // Not `{ ...options, timeZone }`: on Node 20 a property written after a spread takes a slow path (~1.5 µs).
  return lineOf(view, Object.assign({}, options, { timeZone }), wallTimeOf(view, timeZone));
}

function lineOf(view: MessageView, context: LineContext, sent: WallTime): string {
  const when = context.showDate ? `${sent.day} ${sent.time}` : sent.time;
  const chat = context.showChat && view.chat ? ` [chat:${view.chat.id}]` : "";
  const to = context.showChat && view.to ? ` → ${shortName(view.to)}` : "";
  const body = messageBody(view, context);
  let line = `#${view.id} ${when}${chat} ${shortName(view.from)}${to}:`;
  if (body !== null) line += ` ${body}`;
  for (const tag of MESSAGE_TAGS) {
    const note = tag(view, context, sent);
    if (note !== null) line += ` ${note}`;
  }
  return line;
}

/** "chat:3 Weekend Crew (group)": what a [chat:3] on the lines stands for. */
export function chatLegendLine(chat: NonNullable<MessageView["chat"]>): string {
  return `chat:${chat.id} ${shortName(chat.name)}${chat.isGroup ? " (group)" : ""}`;
}

/** The id of my newest message in each chat of `views` (events aside): where "delivered" is said. */
function newestOfMineByChat(views: readonly MessageView[]): Set<number> {
  const newest = new Map<number | null, MessageView>();
  for (const view of views) {
    if (!view.isFromMe || view.event) continue;
    const key = view.chat?.id ?? null;
    const current = newest.get(key);
    if (!current || instantOf(view.date) > instantOf(current.date)) newest.set(key, view);
  }
  return new Set([...newest.values()].map((v) => v.id));
}

/** The message lines with a day line ("2025-03-01 Sat") wherever the day changes. */
export function messageLines(views: readonly MessageView[], options: MessageLineOptions = {}): string[] {
  const lines: string[] = [];
  const timeZone = options.timeZone ?? systemTimeZone();
  const context: LineContext = {
    ...options,
    timeZone,
    deliveredShown: options.deliveredShown ?? newestOfMineByChat(views),
  };
  let day = "";
  for (const view of views) {
    const sent = wallTimeOf(view, timeZone);
    if (!options.showDate && sent.day !== day) {
      lines.push(`${sent.day} ${sent.weekday}`);
      day = sent.day;
    }
    lines.push(lineOf(view, context, sent));
  }
  return lines;
}

export interface MessagePage {
  /** Trusted words before the fence: what was asked for and how many were found. No third-party text. */
  header: string;
  /** What the refs in the header stand for ("chat:3 Weekend Crew"): third-party, so inside the fence. */
  names?: readonly string[];
  messages: readonly MessageView[];
  /** The page is one chat (the chat= filter): no chat refs on the lines. */
  oneChat?: boolean;
  /** Said instead of the fence when there are no messages. */
  emptyNote: string;
  /** Trusted words after the fence: how to get more ("More messages: call again with cursor …"). */
  more?: string;
  fullTextHint?: MessageLineOptions["fullTextHint"];
  /** How much of each text to show (default TEXT_CAPS.messageText). */
  textCap?: number;
  /** The IANA zone times are written in (default: the Mac's own); the page names it once. */
  timeZone?: string;
}

/**
 * A page of messages for the model: the header and the time zone, then one fence holding the names behind
 * the refs, a legend of the chats on the lines, and the message lines; then how to get more.
 */
export function renderMessagePage(page: MessagePage): string {
  const names = [...(page.names ?? [])];
  const out: string[] = [];
  if (page.messages.length === 0) {
    out.push(
      page.header,
      names.length > 0 ? `${page.emptyNote}\n${wrapUntrusted(names.join("\n"))}` : page.emptyNote,
    );
  } else {
    const showChat = !page.oneChat;
    if (showChat) {
      const known = new Set(names.map((line) => line.split(" ", 1)[0]));
      for (const view of page.messages) {
        if (!view.chat || known.has(`chat:${view.chat.id}`)) continue;
        known.add(`chat:${view.chat.id}`);
        names.push(chatLegendLine(view.chat));
      }
    }
    const timeZone = page.timeZone ?? systemTimeZone();
    const lines = messageLines(page.messages, {
      showChat,
      fullTextHint: page.fullTextHint,
      textCap: page.textCap,
      timeZone,
    });
    out.push(
      page.header,
      timeZoneNote(
        timeZone,
        page.messages.map((m) => new Date(instantOf(m.date))),
      ),
      wrapUntrusted([...names, ...lines].join("\n")),
    );
  }
  if (page.more) out.push(page.more);
  return out.join("\n");
}
