// schedule_message: send a message later, exactly once, even across restarts.

import { z } from "zod";
import { MAX_TEXT_CHARS } from "../../send/index.js";
import { parseSendAt } from "../core/date-input.js";
import { recipientInput } from "../core/input-schemas.js";
import { resolveRecipient } from "../core/recipients.js";
import { scheduledSchema, scheduledView, withNotices } from "../core/scheduled-view.js";
import { ToolContext } from "../core/tool-context.js";
import { guard, okResult } from "../core/tool-result.js";
import { localTimestamp, wrapUntrusted } from "../format.js";
import { defineTool } from "../tool-definition.js";

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
      .describe("ISO 8601 with offset, within a year, e.g. 2025-03-01T09:00:00-08:00."),
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
