// Attachments as the attachment tools show them, and the filters they share.

import { existsSync } from "node:fs";
import { z } from "zod";
import type { AttachmentFile } from "../../messages/attachment-files.js";
import type { AttachmentQuery, AttachmentWithMessage } from "../../messages/types.js";
import { isoInZone, parseDateWindow, shortTimeInZone } from "../../util/dates.js";
import { formatBytes, senderName } from "../format.js";
import { shortName } from "../render-messages.js";
import { chatRefSchema } from "./input-schemas.js";
import { type EmptyFilter, type FilterWords, resolveConversationFilter } from "./resolve-references.js";
import type { ToolContext } from "./tool-context.js";

/** get_attachment's max_bytes bounds: below 50 KB photos become useless; above 5 MB clients choke. */
export const MIN_IMAGE_BYTES = 50_000;
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

export const DEFAULT_ATTACHMENT_LIMIT = 50;
export const MAX_ATTACHMENT_LIMIT = 500;
/** Files opened per search_attachment_contents call; the cursor carries on from there. */
export const FILES_PER_CONTENT_SEARCH = 100;
/** Candidate rows fetched per batch while looking for searchable files. */
export const CANDIDATE_BATCH = 200;
export const SNIPPETS_PER_FILE = 3;
export const SNIPPET_CONTEXT = 80;
/** Text shown by get_attachment for a text file or PDF. */
export const PREVIEW_CHARS = 4000;
/** Unreadable files listed by name in a content search (all are counted). */
export const LISTED_UNREADABLE = 20;

export const attachmentResultSchema = z.object({
  id: z.number().int().describe("Pass to get_attachment."),
  name: z.string().nullable().describe("Original file name (third-party content)."),
  mimeType: z.string().nullable(),
  sizeBytes: z.number(),
  isSticker: z.boolean(),
  path: z.string().nullable().describe("Where the file is on the Mac; null when it was never downloaded."),
  onDisk: z.boolean().describe("Whether the file is there now."),
  messageId: z.number().int(),
  date: z.string().describe("When the message was sent, ISO 8601 with the result's UTC offset."),
  from: z.string(),
  isFromMe: z.boolean(),
  chat: chatRefSchema.nullable(),
});

export type AttachmentResult = z.infer<typeof attachmentResultSchema>;

export function attachmentResult(ctx: ToolContext, attachment: AttachmentWithMessage): AttachmentResult {
  return {
    id: attachment.rowid,
    name: attachment.name,
    mimeType: attachment.mimeType,
    sizeBytes: attachment.sizeBytes,
    isSticker: attachment.isSticker,
    path: attachment.path,
    onDisk: attachment.path !== null && existsSync(attachment.path),
    messageId: attachment.messageRowid,
    date: isoInZone(attachment.messageDate, ctx.timeZone),
    from: senderName(attachment.isFromMe, attachment.handle, ctx.nameFor),
    isFromMe: attachment.isFromMe,
    chat: ctx.chatRef(attachment.chatRowid),
  };
}

/** `#12 [2025-03-01 14:05] Alice → Weekend Crew: Cabin.pdf (application/pdf, 3 KB)`; third-party content. */
export function attachmentLine(view: AttachmentResult, timeZone: string): string {
  const where = view.chat?.isGroup ? ` → ${shortName(view.chat.name)}` : "";
  const what = [
    view.mimeType,
    formatBytes(view.sizeBytes),
    view.isSticker ? "sticker" : null,
    view.onDisk ? null : "not on disk",
  ]
    .filter((part) => part !== null)
    .join(", ");
  return `#${view.id} [${shortTimeInZone(new Date(view.date), timeZone)}] ${shortName(view.from)}${where}: ${view.name === null ? "unnamed" : shortName(view.name)} (${what})`;
}

interface AttachmentFilterArgs {
  contact?: string | undefined;
  chat?: string | undefined;
  start_date?: string | undefined;
  end_date?: string | undefined;
}

/**
 * The store query for the common filters, with the filter in words (FilterWords: `header` for text,
 * `names` fenced, `description` for structured output), or why nothing can match.
 */
export function attachmentQuery(
  ctx: ToolContext,
  args: AttachmentFilterArgs,
): ({ query: Omit<AttachmentQuery, "limit"> } & FilterWords) | EmptyFilter {
  const window = parseDateWindow(args, ctx.timeZone);
  const filter = resolveConversationFilter(ctx, args);
  if ("empty" in filter) return filter;
  const words = (who: string) => [who, window.description].filter((p) => p !== "").join(" ");
  return {
    query: {
      since: window.start,
      until: window.end,
      chatRowids: filter.chatRowids,
      handleRowids: filter.handleRowids,
    },
    description: words(filter.description),
    header: words(filter.header),
    names: filter.names,
  };
}

/** A file status in plain words for the person reading the result. */
export function fileNote(file: AttachmentFile): string {
  switch (file.status) {
    case "available":
      return `The file is at ${file.realPath} (${formatBytes(file.sizeBytes)}).`;
    case "not_downloaded":
      return "Messages never downloaded this file to this Mac (no path is recorded).";
    case "missing":
      return `The file is missing: nothing is at ${file.path}. Messages may have removed it, or it is only in iCloud.`;
    case "not_a_file":
      return `${file.path} is not a regular file.`;
    case "unreadable":
      return `The file at ${file.path} cannot be read: ${file.reason}.`;
    case "outside":
      return `Refused: ${file.path} leads outside the Messages attachments folder (to ${file.realPath}), so it is not read.`;
  }
}
