// search_attachments: files sent or received, by person, chat, date or type.

import { z } from "zod";
import { timeZoneNote } from "../../util/dates.js";
import {
  attachmentLine,
  attachmentQuery,
  attachmentResult,
  attachmentResultSchema,
  DEFAULT_ATTACHMENT_LIMIT,
  MAX_ATTACHMENT_LIMIT,
} from "../core/attachment-view.js";
import {
  chatInput,
  contactInput,
  cursorInput,
  dateWindowInput,
  timezoneInput,
} from "../core/input-schemas.js";
import { decodeCursor, moreNote, rowidPage } from "../core/paging.js";
import { ToolContext } from "../core/tool-context.js";
import { guard, okResult } from "../core/tool-result.js";
import { fencedLines } from "../format.js";
import { defineTool } from "../tool-definition.js";

const searchAttachmentsTool = {
  title: "Search attachments",
  description:
    "Find files sent or received in Messages (photos, PDFs, documents, stickers) by person, chat, date or type, newest first. Use get_attachment to open one and search_attachment_contents to search inside documents.",
  inputSchema: {
    contact: contactInput,
    chat: chatInput,
    ...dateWindowInput,
    mime_prefix: z
      .string()
      .max(100)
      .optional()
      .describe('Only this type: "image/", "application/pdf", "text/", "video/"…'),
    limit: z
      .number()
      .int()
      .min(1)
      .max(MAX_ATTACHMENT_LIMIT)
      .optional()
      .describe(`Default ${DEFAULT_ATTACHMENT_LIMIT}.`),
    cursor: cursorInput,
    timezone: timezoneInput,
  },
  outputSchema: {
    attachments: z.array(attachmentResultSchema),
    count: z.number().int(),
    nextCursor: z.string().nullable(),
    filter: z.string(),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

export const searchAttachments = defineTool({
  name: "search_attachments",
  permission: "read",
  ...searchAttachmentsTool,
  handler: (args, { deps }) =>
    guard(() => {
      const ctx = new ToolContext(deps, { timeZone: args.timezone });
      const limit = args.limit ?? DEFAULT_ATTACHMENT_LIMIT;
      const built = attachmentQuery(ctx, args);
      if ("empty" in built)
        return okResult(built.emptyText, {
          attachments: [],
          count: 0,
          nextCursor: null,
          filter: built.empty,
        });
      const mimePrefix = args.mime_prefix?.trim().toLowerCase() || undefined;
      const found = ctx.messages.searchAttachments({
        ...built.query,
        mimePrefix,
        beforeRowid: args.cursor === undefined ? undefined : decodeCursor(args.cursor, "beforeRowid"),
        limit: limit + 1,
      });
      const { page: rows, nextCursor } = rowidPage(found, limit);
      const page = rows.map((a) => attachmentResult(ctx, a));
      const what = (who: string) =>
        ["Attachments", mimePrefix ? `of type ${mimePrefix}*` : "", who].filter((p) => p !== "").join(" ");
      const zone =
        page.length > 0
          ? `\n${timeZoneNote(
              ctx.timeZone,
              page.map((a) => new Date(a.date)),
            )}`
          : "";
      const lines = page.map((a) => attachmentLine(a, ctx.timeZone));
      const text = `${what(built.header)}: ${page.length} shown, newest first.${zone}\n${fencedLines(lines, "No attachments.", built.names)}${moreNote("attachments", nextCursor)}`;
      return okResult(text, {
        attachments: page,
        count: page.length,
        nextCursor,
        filter: what(built.description),
      });
    }),
});
