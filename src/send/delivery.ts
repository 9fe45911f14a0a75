// After osascript says "sent", look in chat.db for the row Messages writes for the sent message. osascript
// returning only means Messages accepted the Apple event; the row (is_from_me = 1, in the right chat, with
// the text) is what the Messages window would show. Found within a few seconds: "confirmed", with the
// row's own service (RCS goes out through the SMS account and is stored as 'RCS'). Not found: "uncertain",
// never a guess of success.
import type { Chat, Message, MessageQuery } from "../messages/types.js";
import type { SendTarget } from "./sender.js";

export const DELIVERY_WINDOW_ENV = "MAC_MESSAGES_DELIVERY_WINDOW_MS";
export const DEFAULT_DELIVERY_WINDOW_MS = 5000;

/** The sent row as found in chat.db. */
export interface SentRow {
  rowid: number;
  service: string;
}

/** What a send is looked up by. */
export interface SentContent {
  target: SendTarget;
  text?: string;
  /** For a file: its name, as Messages stores it on the attachment. */
  fileName?: string;
}

/** A place to look for sent rows: `mark()` before the send, `find()` after (polled). */
export interface DeliveryCheck {
  /** The newest ROWID now: the sent row will come after it. */
  mark(): number;
  find(mark: number, sent: SentContent): SentRow | null;
}

/** The part of the Messages store the check reads (MessagesStore has it). */
export interface SentRowSource {
  maxRowid(): number;
  getMessages(query: MessageQuery): Message[];
  getChat(ref: number | string): Chat | null;
}

/** The window from the option, else MAC_MESSAGES_DELIVERY_WINDOW_MS, else 5 s; 0 switches the look off. */
export function deliveryWindowMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[DELIVERY_WINDOW_ENV]?.trim();
  if (raw === undefined || raw === "") return DEFAULT_DELIVERY_WINDOW_MS;
  const parsed = Number(raw);
  return Number.isInteger(parsed) && parsed >= 0 ? parsed : DEFAULT_DELIVERY_WINDOW_MS;
}

/** Phone numbers and emails as Messages may write them: digits (with a leading +) or lower-case. */
function addressKey(address: string): string {
  const trimmed = address.trim().toLowerCase();
  if (trimmed.includes("@")) return trimmed;
  const digits = trimmed.replace(/[^\d]/g, "");
  // Compare the last 10 digits: "+1 555 010 0001", "5550100001" and "+15550100001" are one number.
  return digits.length > 10 ? digits.slice(-10) : digits;
}

function sameText(a: string | null, b: string): boolean {
  return a !== null && a.replace(/\r\n/g, "\n").trim() === b.replace(/\r\n/g, "\n").trim();
}

/** How many rows after the mark are read per look: a busy account may receive a few meanwhile. */
const ROWS_PER_LOOK = 200;

export function chatDbDeliveryCheck(store: SentRowSource): DeliveryCheck {
  return {
    mark: () => store.maxRowid(),
    find(mark, sent) {
      const chatRowid =
        sent.target.kind === "chat" ? (store.getChat(sent.target.chatGuid)?.rowid ?? null) : null;
      const wanted = sent.target.kind === "handle" ? addressKey(sent.target.handle) : null;
      const rows = store.getMessages({ afterRowid: mark, limit: ROWS_PER_LOOK, order: "asc" });
      for (const row of rows) {
        if (!row.isFromMe) continue;
        if (chatRowid !== null && row.chatRowid !== chatRowid) continue;
        if (wanted !== null) {
          const chat = row.chatRowid !== null ? store.getChat(row.chatRowid) : null;
          const to = row.handle?.id ?? (chat && !chat.isGroup ? chat.identifier : null);
          if (to === null || addressKey(to) !== wanted) continue;
        }
        if (sent.text !== undefined && !sameText(row.text, sent.text)) continue;
        if (sent.fileName !== undefined && !row.attachments.some((a) => a.name === sent.fileName)) continue;
        return { rowid: row.rowid, service: row.service };
      }
      return null;
    },
  };
}
