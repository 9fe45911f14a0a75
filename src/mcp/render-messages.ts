// Messages as the model reads them: one short line each, inside the fence, with only what it needs to
// understand the conversation and to call again (message ids for since_rowid and message_id, attachment ids
// for get_attachment, chat refs for chat= and send_message). Nothing that is empty, false or null is
// written, a date is written once per day, and long text is cut visibly. Budget: ≤ 110 characters per
// message for a conversation of short texts, everything included (bench/model-budget.ts measures it).
//
// To show a new message field, add one entry to MESSAGE_TAGS (or to messageBody for what replaces the
// text): nothing else changes.
import type { AttachmentView, MessageView } from "./format.js";
import { wrapUntrusted } from "./render-fence.js";
import { capText, formatBytes, TEXT_CAPS } from "./render-truncate.js";

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** "2025-03-01" in the server's local time zone (the Mac's, which is the user's). */
export function localDay(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** "14:05" in the server's local time zone. */
export function localTime(date: Date): string {
  return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** "2025-03-01 14:05" in the server's local time zone. */
export function localTimestamp(date: Date): string {
  return `${localDay(date)} ${localTime(date)}`;
}

/** "UTC+01:00", "UTC−08:00" (a real minus sign, as clocks print it), "UTC". */
export function utcOffset(date: Date): string {
  const minutes = -date.getTimezoneOffset();
  if (minutes === 0) return "UTC";
  const sign = minutes > 0 ? "+" : "\u2212";
  const abs = Math.abs(minutes);
  return `UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * "Times are local (America/Los_Angeles, UTC−08:00)." for the dates shown; both offsets when they straddle
 * a daylight-saving change ("UTC+01:00/UTC+02:00"), so no time is read in the wrong offset.
 */
export function timeZoneNote(dates: readonly Date[]): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const offsets = [...new Set((dates.length > 0 ? dates : [new Date()]).map(utcOffset))];
  if (
    offsets.length === 1 &&
    offsets[0] === "UTC" &&
    (!zone || /^(Etc\/)?(UTC|GMT|Universal|Zulu)$/i.test(zone))
  ) {
    return "Times are UTC.";
  }
  return `Times are local (${zone ? `${zone}, ` : ""}${offsets.join("/")}).`;
}

/**
 * Collapses line breaks so one message stays one line, and drops U+FFFC (the placeholder Messages puts
 * where an attachment sits; the attachment is listed separately).
 */
export function oneLine(text: string): string {
  return text
    .replace(/\uFFFC/g, "")
    .replace(/\r\n|\r|\n|\u2028|\u2029/g, " ⏎ ")
    .trim();
}

/** A name as shown inside the fence: one line, at most TEXT_CAPS.name characters. */
export function shortName(name: string): string {
  return capText(oneLine(name), TEXT_CAPS.name);
}

/** "[attachment 55: beach.jpg, 200 KB]"; the type only when the name does not say it. */
export function attachmentTag(a: AttachmentView): string {
  if (a.isSticker) return `[sticker ${a.id}]`;
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
  /** Write the chat ref ("[chat:3]") on the line: pages that hold more than one chat. */
  showChat?: boolean;
  /** Write the date on the line (no day lines around it), as in list_chats' "last:" lines. */
  showDate?: boolean;
  /** How much of the text to show (default TEXT_CAPS.messageText). */
  textCap?: number;
  /** What the truncation marker says about getting the rest (default wholeTextHint; null for nothing). */
  fullTextHint?: ((view: MessageView) => string | undefined) | null;
}

/** What stands after the sender: the text, or words for an event or an unsent message. */
function messageBody(view: MessageView, options: MessageLineOptions): string | null {
  const text = view.text === null ? "" : oneLine(view.text);
  if (view.isUnsent && text === "") return "(unsent)";
  if (view.event) return `(${capText(oneLine(view.event), TEXT_CAPS.name * 2)})`;
  if (text !== "")
    return capText(
      text,
      options.textCap ?? TEXT_CAPS.messageText,
      options.fullTextHint === null ? undefined : (options.fullTextHint ?? wholeTextHint)(view),
    );
  return view.attachments.length === 0 ? "(no text)" : null;
}

/** The bracketed notes after a message's text, in this order; each says nothing when it does not apply. */
export const MESSAGE_TAGS: readonly ((view: MessageView) => string | null)[] = [
  (v) => (v.attachments.length > 0 ? v.attachments.map(attachmentTag).join(" ") : null),
  (v) =>
    v.reactions.length > 0
      ? `[${v.reactions.map((r) => `${capText(r.emoji, 16)} ${shortName(r.from)}`).join(", ")}]`
      : null,
  (v) => (v.isEdited ? "[edited]" : null),
  (v) => (v.isUnsent && v.text !== null && oneLine(v.text) !== "" ? "[partly unsent]" : null),
  (v) => (v.replyToGuid ? "[reply]" : null),
  (v) => (!v.isFromMe && !v.isRead ? "[unread]" : null),
  // iMessage is the norm; SMS and RCS are worth knowing (no read receipts, green bubbles, group limits).
  (v) => (v.service && v.service !== "iMessage" ? `[${capText(v.service, 16)}]` : null),
];

/**
 * One line per message, e.g. `#812 14:05 Alice Smith: See you there [❤️ Me] [edited]`, with
 * `[chat:3]` before the sender when the page holds several chats and the date when asked. The line is
 * third-party content: it goes inside the fence (renderMessagePage does that).
 */
export function messageLine(view: MessageView, options: MessageLineOptions = {}): string {
  const date = new Date(view.date);
  const when = options.showDate ? localTimestamp(date) : localTime(date);
  const chat = options.showChat && view.chat ? ` [chat:${view.chat.id}]` : "";
  const body = messageBody(view, options);
  const parts = [`#${view.id} ${when}${chat} ${shortName(view.from)}:`];
  if (body !== null) parts.push(body);
  for (const tag of MESSAGE_TAGS) {
    const note = tag(view);
    if (note !== null) parts.push(note);
  }
  return parts.join(" ");
}

/** "chat:3 Weekend Crew (group)": what a [chat:3] on the lines stands for. */
export function chatLegendLine(chat: NonNullable<MessageView["chat"]>): string {
  return `chat:${chat.id} ${shortName(chat.name)}${chat.isGroup ? " (group)" : ""}`;
}

/** The message lines with a day line ("2025-03-01 Sat") wherever the day changes. */
export function messageLines(views: readonly MessageView[], options: MessageLineOptions = {}): string[] {
  const lines: string[] = [];
  let day = "";
  for (const view of views) {
    const date = new Date(view.date);
    const thisDay = localDay(date);
    if (!options.showDate && thisDay !== day) {
      lines.push(`${thisDay} ${WEEKDAYS[date.getDay()]}`);
      day = thisDay;
    }
    lines.push(messageLine(view, options));
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
    const lines = messageLines(page.messages, {
      showChat,
      fullTextHint: page.fullTextHint,
      textCap: page.textCap,
    });
    out.push(
      page.header,
      timeZoneNote(page.messages.map((m) => new Date(m.date))),
      wrapUntrusted([...names, ...lines].join("\n")),
    );
  }
  if (page.more) out.push(page.more);
  return out.join("\n");
}
