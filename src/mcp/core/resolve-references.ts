// The rules for turning what a person typed ("Alice", "+1 555…", "chat:12") into chat.db rows and contacts.
import {
  type Contact,
  type ContactSearchResult,
  type ContactsStore,
  classifyHandle,
} from "../../contacts/index.js";
import type { Chat, Handle } from "../../messages/types.js";
import { chatTitle, nameLine, withNames, wrapUntrusted } from "../format.js";
import type { ToolContext } from "./tool-context.js";
import { ToolInputError } from "./tool-result.js";

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
  // Names only: no message counts (the first count of each chat reads all its messages).
  const chats = ctx.messages.listChats({ limit: 2000, messageCounts: false });
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
