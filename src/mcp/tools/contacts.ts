import { z } from "zod";
import { type Contact, classifyHandle, handleKey } from "../../contacts/index.js";
import { fencedLines, localTimestamp, nameLine, withNames } from "../format.js";
import { defineTool } from "../tool-definition.js";
import { contactRef, guard, okResult, resolveContactByName, ToolContext, ToolInputError } from "./context.js";
import { handleSchema } from "./schemas.js";

const valueSchema = z.object({ value: z.string(), label: z.string().nullable() });

const contactSchema = z.object({
  ref: z.string().describe("contact:<id>: usable as a send_message recipient or a contact filter."),
  id: z.string(),
  name: z.string(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  nickname: z.string().nullable(),
  organization: z.string().nullable(),
  phones: z.array(valueSchema),
  emails: z.array(valueSchema),
});

function contactView(contact: Contact) {
  return {
    ref: contactRef(contact),
    id: contact.id,
    name: contact.displayName,
    firstName: contact.firstName,
    lastName: contact.lastName,
    nickname: contact.nickname,
    organization: contact.organization,
    phones: contact.phones.map((p) => ({ value: p.value, label: p.label })),
    emails: contact.emails.map((e) => ({ value: e.value, label: e.label })),
  };
}

function contactLine(view: ReturnType<typeof contactView>, score: number, matchedOn: string): string {
  const values = [...view.phones, ...view.emails].map((v) => (v.label ? `${v.label} ${v.value}` : v.value));
  return `${view.ref} ${view.name} — score ${score.toFixed(2)} (matched ${matchedOn})${values.length ? `: ${values.join(", ")}` : ""}`;
}

const findContactTool = {
  title: "Find a contact",
  description:
    "Look up people in Contacts by name (typo-tolerant) or find who a phone number or email belongs to. Use it when a name is ambiguous, then pass its contact:<id> to other tools.",
  inputSchema: {
    query: z.string().min(1).max(320).describe('A name ("jon smth" works), phone number or email address.'),
    limit: z.number().int().min(1).max(50).optional().describe("Most matches to return (default 10)."),
  },
  outputSchema: {
    kind: z.enum(["name", "phone", "email"]),
    matches: z.array(contactSchema.extend({ score: z.number(), matchedOn: z.string() })),
    handles: z
      .array(handleSchema)
      .describe("Messages handles (chat.db) for this number/address or these contacts."),
    contactsWarning: z.string().nullable().describe("Set when Contacts could not be fully read."),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

export const findContact = defineTool({
  name: "find_contact",
  permission: "read",
  ...findContactTool,
  handler: (args, { deps }) =>
    guard(() => {
      const ctx = new ToolContext(deps);
      const query = args.query.trim();
      if (query === "") throw new ToolInputError("The search text is empty.");
      const classified = classifyHandle(query);
      const kind = classified === "other" ? "name" : classified;
      const results = ctx.contacts.search(query, args.limit ?? 10);
      const matches = results.map((r) => ({
        ...contactView(r.contact),
        score: r.score,
        matchedOn: r.matchedOn,
      }));
      const addresses =
        kind === "name"
          ? results.flatMap((r) => [...r.contact.phones, ...r.contact.emails].map((v) => v.value))
          : [query];
      const handles = ctx
        .handlesMatching(addresses)
        .map((h) => ({ id: h.id, service: h.service, name: ctx.nameFor(h.id) }));
      const status = ctx.contacts.status();
      const contactsWarning = status.ok ? null : status.message;
      const lines = matches.map((m) => contactLine(m, m.score, m.matchedOn));
      if (kind !== "name" && handles.length > 0) {
        lines.push(`In Messages as: ${handles.map((h) => `${h.id} (${h.service})`).join(", ")}`);
      }
      const header =
        matches.length > 0
          ? `${matches.length} contact${matches.length === 1 ? "" : "s"} matching "${query}", best first.`
          : `No contact matches "${query}".${kind !== "name" && handles.length > 0 ? " It does appear in Messages." : ""}`;
      const warning = contactsWarning ? `\nNote: ${contactsWarning}` : "";
      return okResult(`${header}${warning}\n${fencedLines(lines, "(nothing found)")}`, {
        kind,
        matches,
        handles,
        contactsWarning,
      });
    }),
});

const serviceUseSchema = z.object({
  service: z.string(),
  lastUsed: z.string().nullable(),
  messageCount: z.number().int(),
});

export type Availability = "imessage" | "sms_only" | "unknown";

export function availabilityOf(services: readonly { service: string; messageCount: number }[]): Availability {
  const used = services.filter((s) => s.messageCount > 0);
  if (used.some((s) => s.service === "iMessage")) return "imessage";
  if (used.length > 0) return "sms_only";
  // A handle row with no messages still means Messages once registered it on that service.
  if (services.some((s) => s.service === "iMessage")) return "imessage";
  return services.length > 0 ? "sms_only" : "unknown";
}

const VERDICT_WORDS: Record<Availability, string> = {
  imessage: "has used iMessage",
  sms_only: "only SMS/RCS so far (no iMessage history)",
  unknown: "no history in Messages",
};

/** Phone numbers and emails to check: the typed address itself, or every address of the named contact. */
function addressesFor(ctx: ToolContext, recipient: string): { addresses: string[]; contact: Contact | null } {
  if (classifyHandle(recipient) !== "other") {
    return { addresses: [recipient], contact: ctx.contacts.lookupHandle(recipient) };
  }
  const contact = resolveContactByName(ctx, recipient, "to check");
  const addresses = [...contact.phones, ...contact.emails].map((v) => v.value);
  if (addresses.length === 0) {
    throw new ToolInputError(
      withNames(`${contactRef(contact)} has no phone number or email in Contacts.`, [
        nameLine(contactRef(contact), contact.displayName),
      ]),
    );
  }
  return { addresses, contact };
}

/** Service history of one address, merged over every chat.db handle that means the same address. */
export function serviceHistoryFor(ctx: ToolContext, address: string) {
  const key = handleKey(address);
  const ids = new Set([address, ...ctx.handlesMatching([address]).map((h) => h.id)]);
  const merged = new Map<string, { service: string; lastUsed: Date | null; messageCount: number }>();
  for (const id of ids) {
    if (handleKey(id) !== key) continue;
    for (const use of ctx.messages.serviceHistory(id)) {
      const seen = merged.get(use.service);
      if (!seen) merged.set(use.service, { ...use });
      else {
        seen.messageCount += use.messageCount;
        if (use.lastUsed && (!seen.lastUsed || use.lastUsed > seen.lastUsed)) seen.lastUsed = use.lastUsed;
      }
    }
  }
  return [...merged.values()].sort((a, b) => (b.lastUsed?.getTime() ?? 0) - (a.lastUsed?.getTime() ?? 0));
}

const checkImessageAvailabilityTool = {
  title: "Check iMessage availability",
  description:
    "Tell whether a phone number, email or contact has used iMessage with the user, from this Mac's history. Use it before send_message when it matters whether the message goes by iMessage or SMS.",
  inputSchema: {
    recipient: z.string().min(1).max(320).describe("Phone number, email, contact name or contact:<id>."),
  },
  outputSchema: {
    contact: z.string().nullable(),
    available: z.enum(["yes", "no", "unknown"]).describe("yes = iMessage history on some address."),
    addresses: z.array(
      z.object({
        address: z.string(),
        availability: z.enum(["imessage", "sms_only", "unknown"]),
        services: z.array(serviceUseSchema),
      }),
    ),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

export const checkImessageAvailability = defineTool({
  name: "check_imessage_availability",
  permission: "read",
  ...checkImessageAvailabilityTool,
  handler: (args, { deps }) =>
    guard(() => {
      const ctx = new ToolContext(deps);
      const { addresses, contact } = addressesFor(ctx, args.recipient.trim());
      const results = addresses.map((address) => {
        const services = serviceHistoryFor(ctx, address);
        return {
          address,
          availability: availabilityOf(services),
          services: services.map((s) => ({ ...s, lastUsed: s.lastUsed?.toISOString() ?? null })),
        };
      });
      const available = results.some((r) => r.availability === "imessage")
        ? "yes"
        : results.some((r) => r.availability === "sms_only")
          ? "no"
          : "unknown";
      const lines = results.map((r) => {
        const detail = r.services
          .map(
            (s) =>
              `${s.service}: ${s.messageCount} messages${s.lastUsed ? `, last ${localTimestamp(new Date(s.lastUsed))}` : ""}`,
          )
          .join("; ");
        return `${r.address}: ${VERDICT_WORDS[r.availability]}${detail ? ` (${detail})` : ""}`;
      });
      // A contact's name is third-party text: the summary names it by ref, and the fence says who that is.
      const who = contact ? contactRef(contact) : args.recipient.trim();
      const names = contact ? [nameLine(contactRef(contact), contact.displayName)] : [];
      const summary =
        available === "yes"
          ? `${who} has used iMessage; send_message will use iMessage.`
          : available === "no"
            ? `${who} has no iMessage history; send_message will send SMS (a phone number is needed).`
            : `No Messages history for ${who}; send_message will try iMessage first and fall back to SMS.`;
      return okResult(`${summary}\n${fencedLines(lines, "(no addresses)", names)}`, {
        contact: contact?.displayName ?? null,
        available,
        addresses: results,
      });
    }),
});
