// Which services (iMessage, SMS, RCS) an address has been used with, from chat.db.
import { handleKey } from "../../contacts/index.js";
import type { ToolContext } from "./tool-context.js";

/**
 * How an address has been reached: iMessage; RCS (Android phones on a carrier with RCS: typing
 * indicators and read receipts, but not iMessage); only SMS; or never. Messages sends RCS through the SMS
 * account, so "rcs" and "sms_only" are sent the same way, but people (and models) should hear which it is.
 */
export type Availability = "imessage" | "rcs" | "sms_only" | "unknown";

export function availabilityOf(services: readonly { service: string; messageCount: number }[]): Availability {
  const used = services.filter((s) => s.messageCount > 0);
  if (used.some((s) => s.service === "iMessage")) return "imessage";
  if (used.some((s) => s.service === "RCS")) return "rcs";
  if (used.length > 0) return "sms_only";
  // A handle row with no messages still means Messages once registered it on that service.
  if (services.some((s) => s.service === "iMessage")) return "imessage";
  if (services.some((s) => s.service === "RCS")) return "rcs";
  return services.length > 0 ? "sms_only" : "unknown";
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
