// check_imessage_availability: whether a person can be reached by iMessage, judged from history.

import { z } from "zod";
import { type Contact, classifyHandle } from "../../contacts/index.js";
import { isoInZone, shortTimeInZone, timeZoneNote } from "../../util/dates.js";
import { contactRef, resolveContactByName } from "../core/resolve-references.js";
import { type Availability, availabilityOf, serviceHistoryFor } from "../core/service-history.js";
import { ToolContext } from "../core/tool-context.js";
import { guard, okResult, ToolInputError } from "../core/tool-result.js";
import { fencedLines, nameLine, withNames } from "../format.js";
import { defineTool } from "../tool-definition.js";

const serviceUseSchema = z.object({
  service: z.string(),
  lastUsed: z.string().nullable(),
  messageCount: z.number().int(),
});

const VERDICT_WORDS: Record<Availability, string> = {
  imessage: "has used iMessage",
  rcs: "uses RCS (no iMessage history)",
  sms_only: "only SMS so far (no iMessage history)",
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
    rcs: z.boolean().describe("No iMessage, but RCS history: messages go through the SMS account as RCS."),
    addresses: z.array(
      z.object({
        address: z.string(),
        availability: z.enum(["imessage", "rcs", "sms_only", "unknown"]),
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
          services: services.map((s) => ({
            ...s,
            lastUsed: s.lastUsed ? isoInZone(s.lastUsed, ctx.timeZone) : null,
          })),
        };
      });
      const available = results.some((r) => r.availability === "imessage")
        ? "yes"
        : results.some((r) => r.availability === "rcs" || r.availability === "sms_only")
          ? "no"
          : "unknown";
      const rcs = available === "no" && results.some((r) => r.availability === "rcs");
      const lines = results.map((r) => {
        const detail = r.services
          .map(
            (s) =>
              `${s.service}: ${s.messageCount} messages${s.lastUsed ? `, last ${shortTimeInZone(new Date(s.lastUsed), ctx.timeZone)}` : ""}`,
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
          : rcs
            ? `${who} has no iMessage history but uses RCS; send_message will send through the SMS account, as RCS.`
            : available === "no"
              ? `${who} has no iMessage history; send_message will send SMS (a phone number is needed).`
              : `No Messages history for ${who}; send_message will try iMessage first and fall back to SMS.`;
      const used = results.flatMap((r) =>
        r.services.flatMap((s) => (s.lastUsed ? [new Date(s.lastUsed)] : [])),
      );
      const zone = used.length > 0 ? `\n${timeZoneNote(ctx.timeZone, used)}` : "";
      return okResult(`${summary}${zone}\n${fencedLines(lines, "(no addresses)", names)}`, {
        contact: contact?.displayName ?? null,
        available,
        rcs,
        addresses: results,
      });
    }),
});
