// A scheduled message as the schedule tools show it.

import { z } from "zod";
import { type MessageScheduler, SCHEDULED_STATUSES, type ScheduledMessage } from "../../send/scheduler.js";
import { localTimestamp } from "../format.js";

export const scheduledSchema = z.object({
  id: z.string().describe("Pass to cancel_scheduled_message."),
  recipient: z.string(),
  text: z.string(),
  sendAt: z.string().describe("ISO 8601 UTC."),
  status: z.enum(SCHEDULED_STATUSES),
  sentAt: z.string().nullable(),
  service: z.string().nullable(),
  error: z.string().nullable().describe("Why it failed, or why its outcome is unknown."),
});

type ScheduledView = z.infer<typeof scheduledSchema>;

export function scheduledView(entry: ScheduledMessage): ScheduledView {
  return {
    id: entry.id,
    recipient: entry.recipient,
    text: entry.text,
    sendAt: entry.sendAt,
    status: entry.status,
    sentAt: entry.sentAt,
    service: entry.service,
    error: entry.error,
  };
}

export function scheduledLine(view: ScheduledView): string {
  const text = view.text.replace(/\s+/g, " ");
  const preview = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  const extra = view.error
    ? ` — ${view.error}`
    : view.sentAt
      ? ` — sent ${localTimestamp(new Date(view.sentAt))}`
      : "";
  return `${view.id} [${view.status}] ${localTimestamp(new Date(view.sendAt))} to ${view.recipient}: ${preview}${extra}`;
}

export function withNotices(text: string, scheduler: MessageScheduler): string {
  return scheduler.notices.length > 0 ? `${text}\nNOTE: ${scheduler.notices.join(" ")}` : text;
}
