// list_scheduled_messages: what is scheduled, sent, failed or cancelled.

import { z } from "zod";
import { SCHEDULED_STATUSES } from "../../send/scheduler.js";
import { systemTimeZone, timeZoneNote } from "../../util/dates.js";
import { scheduledLine, scheduledSchema, scheduledView, withNotices } from "../core/scheduled-view.js";
import { guard, okResult } from "../core/tool-result.js";
import { fencedLines } from "../format.js";
import { defineTool } from "../tool-definition.js";

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
      // The lines' times are in the Mac's zone (the scheduler runs there): say which, once.
      const zone =
        views.length > 0
          ? `\n${timeZoneNote(
              systemTimeZone(),
              views.map((v) => new Date(v.sendAt)),
            )}`
          : "";
      const text = `${header}${zone}\n${fencedLines(views.map(scheduledLine), "None.")}`;
      return okResult(withNotices(text, scheduler), {
        scheduled: views,
        count: views.length,
        notices: [...scheduler.notices],
      });
    }),
});
