// cancel_scheduled_message: stop a scheduled message before it is sent.

import { z } from "zod";
import { scheduledSchema, scheduledView, withNotices } from "../core/scheduled-view.js";
import { guard, okResult } from "../core/tool-result.js";
import { defineTool } from "../tool-definition.js";

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
