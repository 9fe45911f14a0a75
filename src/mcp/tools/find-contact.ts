// find_contact: people in Contacts by name, phone or email, and the addresses Messages knows for them.

import { z } from "zod";
import { type Contact, classifyHandle } from "../../contacts/index.js";
import { handleSchema } from "../core/input-schemas.js";
import { contactRef } from "../core/resolve-references.js";
import { ToolContext } from "../core/tool-context.js";
import { guard, okResult, ToolInputError } from "../core/tool-result.js";
import { fencedLines } from "../format.js";
import { defineTool } from "../tool-definition.js";

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
