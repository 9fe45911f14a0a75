// Who a send goes to: a phone, email, contact or chat, and on which service.
import { type Contact, classifyHandle, normalizeEmail, normalizePhone } from "../../contacts/index.js";
import type { Chat } from "../../messages/types.js";
import type { SendTarget } from "../../send/index.js";
import { chatTitle, nameLine, withNames } from "../format.js";
import { chatRefString, contactRef, resolveChat, resolveContactByName } from "./resolve-references.js";
import { availabilityOf, serviceHistoryFor } from "./service-history.js";
import type { ToolContext } from "./tool-context.js";
import { ToolInputError } from "./tool-result.js";

type ServiceChoice = "auto" | "iMessage" | "SMS";

export interface ResolvedRecipient {
  target: SendTarget;
  /**
   * Who it goes to, in words: "Alice Smith (+15551234567)", "Weekend Crew (chat:3)". It holds names other
   * people chose: in text for a model it goes inside a fence (wrapUntrusted).
   */
  description: string;
  /** Why this service was chosen, when it was not simply "iMessage first". */
  serviceNote: string | null;
}

const LABEL_RANK = (label: string | null): number => {
  const l = (label ?? "").toLowerCase();
  if (l.includes("mobile") || l.includes("iphone") || l.includes("cell")) return 0;
  return 1;
};

/**
 * Which of a contact's addresses to use: the one used most recently in Messages; without any history,
 * a mobile number, then any number, then an email.
 */
function chooseAddress(ctx: ToolContext, contact: Contact): string {
  let best: { address: string; last: number } | null = null;
  for (const value of [...contact.phones, ...contact.emails]) {
    const history = serviceHistoryFor(ctx, value.value).filter((s) => s.messageCount > 0);
    const last = Math.max(0, ...history.map((s) => s.lastUsed?.getTime() ?? 0));
    if (history.length > 0 && (best === null || last > best.last)) best = { address: value.value, last };
  }
  if (best) return best.address;
  const phone = [...contact.phones].sort((a, b) => LABEL_RANK(a.label) - LABEL_RANK(b.label))[0];
  const fallback = phone?.value ?? contact.emails[0]?.value;
  if (fallback === undefined) {
    throw new ToolInputError(
      withNames(
        `${contactRef(contact)} has no phone number or email in Contacts, so there is nowhere to send.`,
        [nameLine(contactRef(contact), contact.displayName)],
      ),
    );
  }
  return fallback;
}

/** The address as Messages expects it: E.164 for phone numbers, lower-case for emails. */
function canonicalAddress(address: string): string {
  const kind = classifyHandle(address);
  if (kind === "email") return normalizeEmail(address.replace(/^(?:mailto:|e:)/i, ""));
  if (kind === "phone") return normalizePhone(address.replace(/^(?:tel:|sms:|p:)/i, "")) ?? address.trim();
  return address.trim();
}

function handleTarget(
  ctx: ToolContext,
  address: string,
  requested: ServiceChoice,
): { target: SendTarget; serviceNote: string | null } {
  const handle = canonicalAddress(address);
  const isEmail = classifyHandle(handle) === "email";
  if (requested === "SMS" && isEmail) {
    throw new ToolInputError(
      `SMS needs a phone number; ${handle} is an email address. Use iMessage or a phone number.`,
    );
  }
  if (requested !== "auto")
    return { target: { kind: "handle", handle, preferService: requested }, serviceNote: null };
  const availability = availabilityOf(serviceHistoryFor(ctx, handle));
  if ((availability === "sms_only" || availability === "rcs") && !isEmail) {
    // Messages sends RCS through its SMS account: asking for SMS is how an RCS conversation continues.
    return {
      target: { kind: "handle", handle, preferService: "SMS" },
      serviceNote:
        availability === "rcs"
          ? "Sent through the SMS account: this number uses RCS in Messages, no iMessage."
          : "Sent as SMS: this number has only SMS history in Messages, no iMessage.",
    };
  }
  return { target: { kind: "handle", handle, preferService: "auto" }, serviceNote: null };
}

function chatTarget(ctx: ToolContext, chat: Chat): ResolvedRecipient {
  return {
    target: { kind: "chat", chatGuid: chat.guid },
    description: `${chatTitle(chat, ctx.nameFor)} (${chatRefString(chat)})`,
    serviceNote: null,
  };
}

/**
 * Recipient text → send target. In order: a phone number or email; a chat (chat:<id>, guid, chat
 * identifier); contact:<id>; a contact name — sent only when one contact clearly matches, otherwise a
 * ToolInputError lists the candidates so the caller can choose.
 */
export function resolveRecipient(
  ctx: ToolContext,
  recipient: string,
  requested: ServiceChoice,
): ResolvedRecipient {
  const trimmed = recipient.trim();
  if (trimmed === "")
    throw new ToolInputError("The recipient is empty: give a phone number, email, contact name or chat.");
  if (classifyHandle(trimmed) !== "other") {
    const { target, serviceNote } = handleTarget(ctx, trimmed, requested);
    const name = ctx.nameFor(trimmed);
    const address = target.kind === "handle" ? target.handle : trimmed;
    return { target, description: name ? `${name} (${address})` : address, serviceNote };
  }
  if (/^chat:/i.test(trimmed) || ctx.messages.getChat(trimmed)) {
    if (requested === "SMS") {
      throw new ToolInputError("A chat keeps its own service; leave service out when sending to a chat.");
    }
    return chatTarget(ctx, resolveChat(ctx, trimmed));
  }
  const contact = resolveContactByName(ctx, trimmed, "to message");
  const address = chooseAddress(ctx, contact);
  const { target, serviceNote } = handleTarget(ctx, address, requested);
  return {
    target,
    description: `${contact.displayName} (${target.kind === "handle" ? target.handle : address})`,
    serviceNote,
  };
}
