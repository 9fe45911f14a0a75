// create_contact: adds a person to Contacts through Contacts.app automation (osascript, values as argv
// only). Not registered in read-only mode: it changes the user's address book.
import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { MessageSender } from "../../send/index.js";
import { wrapUntrusted } from "../format.js";
import { guard, okResult, type ServerDeps } from "./context.js";

export const CREATE_CONTACT_TOOL_NAMES = ["create_contact"] as const;

const createContactTool = {
  title: "Create a contact",
  description:
    "Adds a new person to Contacts on this Mac (through Contacts.app): first name, and optionally last name, " +
    "phone and email. Only when the user asked for it. New contacts show up in find_contact once Contacts has " +
    "saved them.",
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

export function registerCreateContact(server: McpServer, deps: ServerDeps, sender: MessageSender): void {
  server.registerTool("create_contact", createContactTool, (args) =>
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
  );
}
