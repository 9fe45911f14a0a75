// create_contact: add a person to Contacts through Contacts.app.
import { z } from "zod";
import { guard, okResult } from "../core/tool-result.js";
import { wrapUntrusted } from "../format.js";
import { defineTool } from "../tool-definition.js";

const createContactTool = {
  title: "Create a contact",
  description: "Add a new person to Contacts on this Mac. Use it only when the user asked to save a contact.",
  inputSchema: {
    first_name: z.string().min(1).max(256),
    last_name: z.string().max(256).optional(),
    phone: z.string().max(64).optional(),
    email: z.string().max(320).optional(),
  },
  outputSchema: {
    created: z.literal(true),
    name: z.string(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
  },
  annotations: {
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
    openWorldHint: true,
  },
};

export const createContact = defineTool({
  name: "create_contact",
  permission: "send",
  ...createContactTool,
  handler: (args, { deps, sender }) =>
    guard(async () => {
      const phone = args.phone?.trim() || null;
      const email = args.email?.trim() || null;
      await sender.createContact(
        {
          firstName: args.first_name,
          lastName: args.last_name,
          phone: phone ?? undefined,
          email: email ?? undefined,
        },
        { clientId: deps.clientId },
      );
      const name = [args.first_name.trim(), args.last_name?.trim() ?? ""].filter((p) => p !== "").join(" ");
      const details = [phone, email].filter((v) => v !== null).join(", ") || "no phone or email";
      const handle = phone ?? email;
      const known = handle === null ? null : deps.contacts.lookupHandle(handle);
      const duplicateNote = known
        ? ` Note: ${wrapUntrusted(known.displayName)} already had this number/email.`
        : "";
      return okResult(`Created the contact ${name} (${details}) in Contacts.${duplicateNote}`, {
        created: true,
        name,
        phone,
        email,
      });
    }),
});
