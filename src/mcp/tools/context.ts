// What every tool shares: the stores, per-call name caches, plain-words errors, cursors and the rules
// for turning what a person typed ("Alice", "+1 555…", "chat:12") into chat.db rows.

import type { CallToolResult } from "@modelcontextprotocol/server";
import {
  type Contact,
  type ContactSearchResult,
  type ContactsStore,
  classifyHandle,
  handleKey,
} from "../../contacts/index.js";
import type { Chat, Handle, Message, MessagesReader } from "../../messages/types.js";
import type { MessageSender } from "../../send/index.js";
import type { MessageScheduler } from "../../send/scheduler.js";
import { UserFacingError } from "../../util/user-facing-error.js";
import {
  type ChatRef,
  chatTitle,
  type MessageView,
  messageView,
  type NameLookup,
  nameLine,
  withNames,
  wrapUntrusted,
} from "../format.js";

export interface ServerDeps {
  messages: MessagesReader;
  contacts: ContactsStore;
  /** null = read-only: the send tool is not registered at all. */
  sender: MessageSender | null;
  /** Serving generated demo data (said in the server instructions and check_setup). */
  demo?: boolean;
  /** The process's one scheduler; the schedule tools are registered only with it (and a sender). */
  scheduler?: MessageScheduler | null;
  /** Resource subscriptions for chat transcripts (default on); off for servers rebuilt per request. */
  subscriptions?: boolean;
  /** The OAuth client making the calls, in remote mode; the sender records it with sends in the audit log. */
  clientId?: string;
  /** How often wait_for_new_messages checks chat.db (default once a second); tests use a short interval. */
  waitPollIntervalMs?: number;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/** A problem with what the caller asked for; its message is shown to the caller as is. */
export class ToolInputError extends UserFacingError {
  override readonly name = "ToolInputError";
}

export function errorResult(message: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text: message }] };
}

/** Plain words for any failure: known errors as written, anything else as one line without a stack. */
export function describeError(error: unknown): string {
  if (error instanceof UserFacingError && error.showToClient) return error.message;
  const detail = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code.startsWith("SQLITE_BUSY")) {
    return "The Messages database is busy (Messages is writing to it). Try again in a moment.";
  }
  return `Something went wrong: ${detail.split("\n")[0]}`;
}

/** Runs a tool body and turns any throw into an `isError` result, so clients never see a stack trace. */
export async function guard(body: () => CallToolResult | Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await body();
  } catch (error) {
    return errorResult(describeError(error));
  }
}

/** A tool result carrying both the text a model reads and the structured object the output schema describes. */
export function okResult(text: string, structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text }], structuredContent: structured };
}

// ---- cursors --------------------------------------------------------------------------------------

/** Opaque to clients: base64url JSON, e.g. `{ "beforeRowid": 812 }`. */
export function encodeCursor(payload: Record<string, number | string>): string {
  return Buffer.from(JSON.stringify(payload), "utf8").toString("base64url");
}

/** Reads a cursor made by encodeCursor; anything else is a clear ToolInputError. */
export function decodeCursor(cursor: string, key: "beforeRowid" | "offset"): number {
  const bad = () =>
    new ToolInputError(
      "That cursor is not valid: pass back the nextCursor value from the previous result unchanged, or leave it out to start from the newest.",
    );
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw bad();
  }
  const value = (parsed as Record<string, unknown> | null)?.[key];
  const minimum = key === "offset" ? 0 : 1;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < minimum) throw bad();
  return value;
}

/** Reads a cursor made by positionPage: the message position (see Message.position) to continue after. */
export function decodePositionCursor(cursor: string): string {
  const bad = () =>
    new ToolInputError(
      "That cursor is not valid: pass back the nextCursor value from the previous result unchanged, or leave it out to start from the newest.",
    );
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw bad();
  }
  const value = (parsed as Record<string, unknown> | null)?.after;
  if (typeof value !== "string" || !/^-?\d{1,30}:\d{1,16}$/.test(value)) throw bad();
  return value;
}

/**
 * One date-ordered page of messages (fetched with one look-ahead row, to know whether there is more) and the
 * cursor that continues after its last message: its position in date order, so the next page neither skips
 * nor repeats a message when ROWID order and date order differ.
 */
export function positionPage<T extends { position: string }>(
  found: readonly T[],
  limit: number,
): { page: T[]; nextCursor: string | null } {
  const page = found.slice(0, limit);
  const last = page[page.length - 1];
  return {
    page,
    nextCursor: found.length > limit && last ? encodeCursor({ after: last.position }) : null,
  };
}

/**
 * One newest-first page of `found` (fetched with one look-ahead row, to know whether there is more) and
 * the cursor that continues before its last row.
 */
export function rowidPage<T extends { rowid: number }>(
  found: readonly T[],
  limit: number,
): { page: T[]; nextCursor: string | null } {
  const page = found.slice(0, limit);
  const last = page[page.length - 1];
  return {
    page,
    nextCursor: found.length > limit && last ? encodeCursor({ beforeRowid: last.rowid }) : null,
  };
}

/** One page of an offset-paged list (fetched with one look-ahead row) and the cursor for the next. */
export function offsetPage<T>(
  found: readonly T[],
  limit: number,
  offset: number,
): { page: T[]; nextCursor: string | null } {
  return {
    page: found.slice(0, limit),
    nextCursor: found.length > limit ? encodeCursor({ offset: offset + limit }) : null,
  };
}

/** `\nMore chats: call again with cursor "…".` after a page that has a next one, else "". */
export function moreNote(what: string, nextCursor: string | null): string {
  return nextCursor ? `\nMore ${what}: call again with cursor "${nextCursor}".` : "";
}

// ---- per-call context -------------------------------------------------------------------------------

/** One tool call's view of the stores, with small caches so a page of messages resolves each name once. */
export class ToolContext {
  readonly messages: MessagesReader;
  readonly contacts: ContactsStore;
  readonly sender: MessageSender | null;
  readonly demo: boolean;
  readonly #names = new Map<string, string | null>();
  readonly #chats = new Map<number, Chat | null>();
  #handles: Handle[] | undefined;

  constructor(deps: ServerDeps) {
    this.messages = deps.messages;
    this.contacts = deps.contacts;
    this.sender = deps.sender;
    this.demo = deps.demo ?? false;
  }

  readonly nameFor: NameLookup = (handleId) => {
    if (!this.#names.has(handleId)) this.#names.set(handleId, this.contacts.displayNameFor(handleId));
    return this.#names.get(handleId) ?? null;
  };

  chat(rowid: number): Chat | null {
    if (!this.#chats.has(rowid)) this.#chats.set(rowid, this.messages.getChat(rowid));
    return this.#chats.get(rowid) ?? null;
  }

  chatRef(rowid: number | null): ChatRef | null {
    if (rowid === null) return null;
    const chat = this.chat(rowid);
    return chat ? { id: chat.rowid, name: chatTitle(chat, this.nameFor), isGroup: chat.isGroup } : null;
  }

  /** A message as tools return it, with its sender's name and its chat. */
  messageView(message: Message): MessageView {
    return messageView(message, this.nameFor, this.chatRef(message.chatRowid));
  }

  handles(): Handle[] {
    this.#handles ??= this.messages.listHandles();
    return this.#handles;
  }

  /** chat.db handles (on any service) whose id means the same phone/email as one of `ids`. */
  handlesMatching(ids: readonly string[]): Handle[] {
    const keys = new Set(ids.map((id) => handleKey(id)));
    return this.handles().filter((h) => keys.has(handleKey(h.id)));
  }
}

// ---- resolving what people type -----------------------------------------------------------------------

/** Results at or above this score count as plausible matches for a typed name. */
const PLAUSIBLE_SCORE = 0.6;
/** A top match this far ahead of the next one is a clear winner. */
const CLEAR_LEAD = 0.3;

export type ContactChoice =
  | { kind: "one"; contact: Contact; score: number }
  | { kind: "several"; candidates: ContactSearchResult[] }
  | { kind: "none"; nearMisses: ContactSearchResult[] };

/**
 * Picks a contact for a typed name only when the choice is clear: a single plausible match, an exact
 * match with no other exact one, or a top match well ahead of the rest. Anything else goes back to the
 * caller as candidates, because guessing wrong means reading or messaging the wrong person.
 */
export function chooseContact(results: readonly ContactSearchResult[]): ContactChoice {
  const plausible = results.filter((r) => r.score >= PLAUSIBLE_SCORE);
  const [top, second] = plausible;
  if (top === undefined) return { kind: "none", nearMisses: results.slice(0, 5) };
  if (second === undefined) return { kind: "one", contact: top.contact, score: top.score };
  if (top.score === 1 && second.score < 1) return { kind: "one", contact: top.contact, score: top.score };
  if (top.score - second.score >= CLEAR_LEAD) return { kind: "one", contact: top.contact, score: top.score };
  return { kind: "several", candidates: plausible };
}

export function contactRef(contact: Pick<Contact, "id">): string {
  return `contact:${contact.id}`;
}

export function chatRefString(chat: Pick<Chat, "rowid">): string {
  return `chat:${chat.rowid}`;
}

/** "Alice Smith (contact:ABC) — mobile +15551234567, alice@example.com" */
export function describeCandidate(contact: Contact): string {
  const values = [...contact.phones, ...contact.emails].map((v) =>
    v.label ? `${v.label} ${v.value}` : v.value,
  );
  return `${contact.displayName} (${contactRef(contact)})${values.length > 0 ? ` — ${values.join(", ")}` : ""}`;
}

export function findContactById(contacts: ContactsStore, id: string): Contact | null {
  return contacts.all().find((c) => c.id === id) ?? null;
}

const CONTACT_REF = /^contact:(.+)$/i;
const CHAT_REF = /^chat:(\d+)$/i;

/** A contact from `contact:<id>` or a name, or a ToolInputError that lists candidates / says why not. */
export function resolveContactByName(ctx: ToolContext, query: string, purpose: string): Contact {
  const ref = CONTACT_REF.exec(query.trim());
  if (ref?.[1] !== undefined) {
    const byId = findContactById(ctx.contacts, ref[1]);
    if (!byId)
      throw new ToolInputError(
        `There is no contact with id ${ref[1]}. Use find_contact to look it up again.`,
      );
    return byId;
  }
  const choice = chooseContact(ctx.contacts.search(query, 10));
  if (choice.kind === "one") return choice.contact;
  // Candidates are names and details from Contacts: fenced, after the plain-words part of the message.
  if (choice.kind === "several") {
    const lines = choice.candidates.map((c) => `- ${describeCandidate(c.contact)}`);
    throw new ToolInputError(
      `"${query}" matches several contacts; not guessing which one ${purpose}. ` +
        `Call again with one of these as the recipient/contact (the contact:… id, or a phone number or email):\n${wrapUntrusted(lines.join("\n"))}`,
    );
  }
  const status = ctx.contacts.status();
  const near = choice.nearMisses.map((c) => `- ${describeCandidate(c.contact)}`);
  throw new ToolInputError(
    `No contact matches "${query}".` +
      (status.ok ? "" : ` (Contacts could not be fully read: ${status.message})`) +
      " You can also use a phone number or email address." +
      (near.length > 0 ? ` Closest names:\n${wrapUntrusted(near.join("\n"))}` : ""),
  );
}

/** A chat from `chat:<ROWID>`, a guid, a chat identifier, or a chat's name as list_chats shows it. */
export function resolveChat(ctx: ToolContext, ref: string): Chat {
  const trimmed = ref.trim();
  if (trimmed === "")
    throw new ToolInputError("The chat is empty: give chat:<id> from list_chats, or a chat name.");
  const rowid = CHAT_REF.exec(trimmed)?.[1] ?? (/^\d+$/.test(trimmed) ? trimmed : undefined);
  if (rowid !== undefined) {
    const chat = ctx.messages.getChat(Number(rowid));
    if (!chat) throw new ToolInputError(`There is no chat ${trimmed}. Use list_chats to see the chats.`);
    return chat;
  }
  const direct = ctx.messages.getChat(trimmed);
  if (direct) return direct;
  const wanted = trimmed.toLowerCase();
  const chats = ctx.messages.listChats({ limit: 2000 });
  const exact = chats.filter((c) => chatTitle(c, ctx.nameFor).toLowerCase() === wanted);
  const matches =
    exact.length > 0 ? exact : chats.filter((c) => chatTitle(c, ctx.nameFor).toLowerCase().includes(wanted));
  const [first, second] = matches;
  if (first && !second) return first;
  if (first) {
    const lines = matches.slice(0, 10).map((c) => `- ${chatTitle(c, ctx.nameFor)} (${chatRefString(c)})`);
    throw new ToolInputError(
      `"${trimmed}" matches several chats; call again with one of these:\n${wrapUntrusted(lines.join("\n"))}`,
    );
  }
  throw new ToolInputError(
    `No chat matches "${trimmed}". Use list_chats to see the chats and their chat:… ids.`,
  );
}

/**
 * Who or what a filter is about, in two forms. Group and contact names are third-party text, so text
 * output uses `header` (refs only) with `names` (what the refs stand for) fenced after it; `description`
 * has the names in place, for structured output.
 */
export interface FilterWords {
  /** "in Weekend Crew (chat:3) with Alice Smith": for structured output only. */
  description: string;
  /** "in chat:3 with contact:ABC": safe in a header. */
  header: string;
  /** "chat:3 Weekend Crew", "contact:ABC Alice Smith": fence these (fencedLines / withNames). */
  names: string[];
}

export interface ConversationFilter extends FilterWords {
  chatRowids?: number[];
  handleRowids?: number[];
}

/** A filter that rules out every message: why, for structured output (`empty`) and for text (`emptyText`). */
export interface EmptyFilter {
  empty: string;
  emptyText: string;
}

export interface PersonFilter extends FilterWords {
  handles: Handle[];
}

/** The contact/handle part of a filter: phone or email as typed, `contact:<id>`, or a name. */
export function resolvePersonFilter(ctx: ToolContext, who: string): PersonFilter {
  const trimmed = who.trim();
  if (trimmed === "") throw new ToolInputError("The contact is empty: give a name, phone number or email.");
  const kind = classifyHandle(trimmed);
  if (kind !== "other") {
    const contact = ctx.contacts.lookupHandle(trimmed);
    if (!contact) {
      const words = `with ${trimmed}`;
      return { handles: ctx.handlesMatching([trimmed]), description: words, header: words, names: [] };
    }
    const ids = [trimmed, ...contact.phones.map((p) => p.value), ...contact.emails.map((e) => e.value)];
    return {
      handles: ctx.handlesMatching(ids),
      description: `with ${contact.displayName}`,
      header: `with ${trimmed} (${contactRef(contact)})`,
      names: [nameLine(contactRef(contact), contact.displayName)],
    };
  }
  const contact = resolveContactByName(ctx, trimmed, "you meant");
  const ids = [...contact.phones.map((p) => p.value), ...contact.emails.map((e) => e.value)];
  return {
    handles: ctx.handlesMatching(ids),
    description: `with ${contact.displayName}`,
    header: `with ${contactRef(contact)}`,
    names: [nameLine(contactRef(contact), contact.displayName)],
  };
}

/** Why there are no messages with a person none of whose numbers or addresses chat.db knows. */
export function noHandlesNote(person: FilterWords): EmptyFilter {
  const why = ": none of their numbers or addresses appear in Messages.";
  return {
    empty: `No messages ${person.description}${why}`,
    emptyText: withNames(`No messages ${person.header}${why}`, person.names),
  };
}

/** Turns the optional `contact` and `chat` arguments of a reading tool into a MessageQuery filter. */
export function resolveConversationFilter(
  ctx: ToolContext,
  args: { contact?: string | undefined; chat?: string | undefined },
): ConversationFilter | EmptyFilter {
  const filter: ConversationFilter = { description: "", header: "", names: [] };
  const parts: FilterWords[] = [];
  if (args.chat !== undefined && args.chat.trim() !== "") {
    const chat = resolveChat(ctx, args.chat);
    filter.chatRowids = [chat.rowid];
    const title = chatTitle(chat, ctx.nameFor);
    parts.push({
      description: `in ${title} (${chatRefString(chat)})`,
      header: `in ${chatRefString(chat)}`,
      names: [nameLine(chatRefString(chat), title)],
    });
  }
  if (args.contact !== undefined && args.contact.trim() !== "") {
    const person = resolvePersonFilter(ctx, args.contact);
    if (person.handles.length === 0) return noHandlesNote(person);
    filter.handleRowids = person.handles.map((h) => h.rowid);
    parts.push(person);
  }
  filter.description = parts.map((p) => p.description).join(" ");
  filter.header = parts.map((p) => p.header).join(" ");
  filter.names = parts.flatMap((p) => p.names);
  return filter;
}

/** Validated `limit` argument (the schema already bounds it; this keeps callers from other paths honest). */
export function clampLimit(limit: number | undefined, max: number = MAX_LIMIT): number {
  return Math.min(max, Math.max(1, Math.floor(limit ?? DEFAULT_LIMIT)));
}

/** ISO 8601 date or date-time → Date (undefined when left out); a ToolInputError that shows the expected form otherwise. */
export function parseDateInput(value: string | undefined, what: string): Date | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const date = new Date(value.trim());
  if (Number.isNaN(date.getTime())) {
    throw new ToolInputError(
      `${what} "${value}" is not a date: use ISO 8601 such as 2025-03-01 or 2025-03-01T14:00:00Z.`,
    );
  }
  return date;
}
