import { z } from "zod";
import { MAX_TEXT_CHARS } from "../../send/index.js";
import { type MessageScheduler, SCHEDULED_STATUSES, type ScheduledMessage } from "../../send/scheduler.js";
import { fencedLines, localTimestamp, wrapUntrusted } from "../format.js";
import { defineTool } from "../tool-definition.js";
import { guard, okResult, ToolContext, ToolInputError } from "./context.js";
import { recipientInput } from "./schemas.js";
import { resolveRecipient } from "./send.js";

// Date and time with an explicit offset: "9 am" means nothing to a server that may run in another zone.
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

export function parseSendAt(value: string): Date {
  const trimmed = value.trim();
  const date = ISO_WITH_OFFSET.test(trimmed) ? new Date(trimmed) : null;
  if (date === null || Number.isNaN(date.getTime())) {
    throw new ToolInputError(
      `send_at "${value}" is not an ISO 8601 date and time with a time-zone offset, such as ` +
        "2025-03-01T09:00:00-08:00 or 2025-03-01T17:00:00Z.",
    );
  }
  return date;
}

const scheduledSchema = z.object({
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

function scheduledView(entry: ScheduledMessage): ScheduledView {
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

function scheduledLine(view: ScheduledView): string {
  const text = view.text.replace(/\s+/g, " ");
  const preview = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  const extra = view.error
    ? ` — ${view.error}`
    : view.sentAt
      ? ` — sent ${localTimestamp(new Date(view.sentAt))}`
      : "";
  return `${view.id} [${view.status}] ${localTimestamp(new Date(view.sendAt))} to ${view.recipient}: ${preview}${extra}`;
}

function withNotices(text: string, scheduler: MessageScheduler): string {
  return scheduler.notices.length > 0 ? `${text}\nNOTE: ${scheduler.notices.join(" ")}` : text;
}

const scheduleMessageTool = {
  title: "Schedule a message",
  description:
    "Schedule a text to be sent later, at a given time, while this server keeps running on the Mac. Use it only when the user asked to send something later.",
  inputSchema: {
    recipient: recipientInput,
    text: z.string().min(1).max(MAX_TEXT_CHARS),
    send_at: z
      .string()
      .max(64)
      .describe(
        "When: ISO 8601 with a time-zone offset, in the future, at most a year ahead, e.g. 2025-03-01T09:00:00-08:00.",
      ),
    service: z.enum(["auto", "iMessage", "SMS"]).optional(),
  },
  outputSchema: { scheduled: scheduledSchema },
  annotations: {
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
    openWorldHint: true,
  },
};

const listScheduledMessagesTool = {
  title: "List scheduled messages",
  description:
    "List scheduled messages, soonest first: pending ones and those finished in the last 30 days. Use it to check what is queued or whether a scheduled message went out.",
  inputSchema: {
    status: z.enum(SCHEDULED_STATUSES).optional().describe("Only this status."),
  },
  outputSchema: {
    scheduled: z.array(scheduledSchema),
    count: z.number().int(),
    notices: z.array(z.string()),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

const cancelScheduledMessageTool = {
  title: "Cancel a scheduled message",
  description:
    "Cancel a pending scheduled message by its id. Use it when the user no longer wants a scheduled message sent.",
  inputSchema: { id: z.string().min(1).max(100) },
  outputSchema: { scheduled: scheduledSchema },
  annotations: {
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: false,
  },
};

export const scheduleMessage = defineTool({
  name: "schedule_message",
  permission: "send",
  needs: "scheduler",
  ...scheduleMessageTool,
  handler: (args, { deps, scheduler }) =>
    guard(async () => {
      const sendAt = parseSendAt(args.send_at);
      const ctx = new ToolContext(deps);
      const resolved = resolveRecipient(ctx, args.recipient, args.service ?? "auto");
      const entry = await scheduler.schedule({
        target: resolved.target,
        text: args.text,
        sendAt,
        recipient: resolved.description,
        clientId: deps.clientId,
      });
      const view = scheduledView(entry);
      const text = `Scheduled ${view.id} for ${localTimestamp(sendAt)} (${view.sendAt}) to ${wrapUntrusted(resolved.description)}`;
      return okResult(withNotices(text, scheduler), { scheduled: view });
    }),
});

export const listScheduledMessages = defineTool({
  name: "list_scheduled_messages",
  permission: "read",
  needs: "scheduler",
  ...listScheduledMessagesTool,
  handler: (args, { scheduler }) =>
    guard(async () => {
      const entries = (await scheduler.list()).filter(
        (e) => args.status === undefined || e.status === args.status,
      );
      const views = entries.map(scheduledView);
      const header = `${views.length} scheduled message${views.length === 1 ? "" : "s"}${args.status ? ` (${args.status})` : ""}.`;
      const text = `${header}\n${fencedLines(views.map(scheduledLine), "None.")}`;
      return okResult(withNotices(text, scheduler), {
        scheduled: views,
        count: views.length,
        notices: [...scheduler.notices],
      });
    }),
});

export const cancelScheduledMessage = defineTool({
  name: "cancel_scheduled_message",
  permission: "send",
  needs: "scheduler",
  ...cancelScheduledMessageTool,
  handler: (args, { scheduler }) =>
    guard(async () => {
      const entry = await scheduler.cancel(args.id);
      return okResult(withNotices(`Cancelled ${entry.id}; it will not be sent.`, scheduler), {
        scheduled: scheduledView(entry),
      });
    }),
});
