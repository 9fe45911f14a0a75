// Attachment tools: search_attachments (metadata), get_attachment (one file: image preview, text or
// path) and search_attachment_contents (text inside text files and PDFs). Files are read only from the
// Messages attachment folders, after symlinks are resolved.
import { existsSync } from "node:fs";
import type { CallToolResult } from "@modelcontextprotocol/server";
import { z } from "zod";
import {
  type AttachmentFile,
  attachmentRoots,
  extractText,
  imagePreview,
  locateAttachmentFile,
  looksLikeImage,
  MAX_INLINE_IMAGE_BYTES,
  readableKind,
} from "../../messages/attachment-files.js";
import type { AttachmentQuery, AttachmentWithMessage } from "../../messages/types.js";
import { fencedLines, formatBytes, localTimestamp, senderName, wrapUntrusted } from "../format.js";
import { shortName } from "../render-messages.js";
import { defineTool } from "../tool-definition.js";
import {
  decodeCursor,
  describeError,
  type EmptyFilter,
  encodeCursor,
  errorResult,
  type FilterWords,
  guard,
  moreNote,
  okResult,
  parseDateInput,
  resolveConversationFilter,
  rowidPage,
  ToolContext,
  ToolInputError,
} from "./context.js";
import { chatInput, chatRefSchema, contactInput, cursorInput } from "./schemas.js";

/** get_attachment's max_bytes bounds: below 50 KB photos become useless; above 5 MB clients choke. */
const MIN_IMAGE_BYTES = 50_000;
const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

const DEFAULT_ATTACHMENT_LIMIT = 50;
const MAX_ATTACHMENT_LIMIT = 500;
/** Files opened per search_attachment_contents call; the cursor carries on from there. */
const FILES_PER_CONTENT_SEARCH = 100;
/** Candidate rows fetched per batch while looking for searchable files. */
const CANDIDATE_BATCH = 200;
const SNIPPETS_PER_FILE = 3;
const SNIPPET_CONTEXT = 80;
/** Text shown by get_attachment for a text file or PDF. */
const PREVIEW_CHARS = 4000;
/** Unreadable files listed by name in a content search (all are counted). */
const LISTED_UNREADABLE = 20;

const dateRangeInput = {
  start_date: z
    .string()
    .max(64)
    .optional()
    .describe("Only from this date/time on (ISO 8601, e.g. 2025-03-01)."),
  end_date: z.string().max(64).optional().describe("Only before this date/time (ISO 8601)."),
};

const attachmentResultSchema = z.object({
  id: z.number().int().describe("Pass to get_attachment."),
  name: z.string().nullable().describe("Original file name (third-party content)."),
  mimeType: z.string().nullable(),
  sizeBytes: z.number(),
  isSticker: z.boolean(),
  path: z.string().nullable().describe("Where the file is on the Mac; null when it was never downloaded."),
  onDisk: z.boolean().describe("Whether the file is there now."),
  messageId: z.number().int(),
  date: z.string().describe("When the message was sent, ISO 8601 UTC."),
  from: z.string(),
  isFromMe: z.boolean(),
  chat: chatRefSchema.nullable(),
});

type AttachmentResult = z.infer<typeof attachmentResultSchema>;

function attachmentResult(ctx: ToolContext, attachment: AttachmentWithMessage): AttachmentResult {
  return {
    id: attachment.rowid,
    name: attachment.name,
    mimeType: attachment.mimeType,
    sizeBytes: attachment.sizeBytes,
    isSticker: attachment.isSticker,
    path: attachment.path,
    onDisk: attachment.path !== null && existsSync(attachment.path),
    messageId: attachment.messageRowid,
    date: attachment.messageDate.toISOString(),
    from: senderName(attachment.isFromMe, attachment.handle, ctx.nameFor),
    isFromMe: attachment.isFromMe,
    chat: ctx.chatRef(attachment.chatRowid),
  };
}

/** `#12 [2025-03-01 14:05] Alice → Weekend Crew: Cabin.pdf (application/pdf, 3 KB)`; third-party content. */
function attachmentLine(view: AttachmentResult): string {
  const where = view.chat?.isGroup ? ` → ${shortName(view.chat.name)}` : "";
  const what = [
    view.mimeType,
    formatBytes(view.sizeBytes),
    view.isSticker ? "sticker" : null,
    view.onDisk ? null : "not on disk",
  ]
    .filter((part) => part !== null)
    .join(", ");
  return `#${view.id} [${localTimestamp(new Date(view.date))}] ${shortName(view.from)}${where}: ${view.name === null ? "unnamed" : shortName(view.name)} (${what})`;
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
function attachmentQuery(
  ctx: ToolContext,
  args: AttachmentFilterArgs,
): ({ query: Omit<AttachmentQuery, "limit"> } & FilterWords) | EmptyFilter {
  const since = parseDateInput(args.start_date, "start_date");
  const until = parseDateInput(args.end_date, "end_date");
  if (since && until && since >= until) throw new ToolInputError("start_date must be before end_date.");
  const filter = resolveConversationFilter(ctx, args);
  if ("empty" in filter) return filter;
  const dates = [since ? `from ${since.toISOString()}` : "", until ? `before ${until.toISOString()}` : ""];
  const words = (who: string) => [who, ...dates].filter((p) => p !== "").join(" ");
  return {
    query: { since, until, chatRowids: filter.chatRowids, handleRowids: filter.handleRowids },
    description: words(filter.description),
    header: words(filter.header),
    names: filter.names,
  };
}

const searchAttachmentsTool = {
  title: "Search attachments",
  description:
    "Find files sent or received in Messages (photos, PDFs, documents, stickers) by person, chat, date or type, newest first. Use get_attachment to open one and search_attachment_contents to search inside documents.",
  inputSchema: {
    contact: contactInput,
    chat: chatInput,
    ...dateRangeInput,
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
      const ctx = new ToolContext(deps);
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
      const text = `${what(built.header)}: ${page.length} shown, newest first.\n${fencedLines(page.map(attachmentLine), "No attachments.", built.names)}${moreNote("attachments", nextCursor)}`;
      return okResult(text, {
        attachments: page,
        count: page.length,
        nextCursor,
        filter: what(built.description),
      });
    }),
});

/** A file status in plain words for the person reading the result. */
function fileNote(file: AttachmentFile): string {
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

const fileStatusSchema = z.enum(["available", "not_downloaded", "missing", "not_a_file", "unreadable"]);

const getAttachmentTool = {
  title: "Get an attachment",
  description:
    "Open one attachment by id: images come back as images, text files and PDFs as text, other files as their details and path. Use it after search_attachments or a message that lists an attachment.",
  inputSchema: {
    id: z.number().int().min(1).describe("The attachment id."),
    max_bytes: z
      .number()
      .int()
      .min(MIN_IMAGE_BYTES)
      .max(MAX_IMAGE_BYTES)
      .optional()
      .describe(
        `Largest image to return, in bytes (default ${MAX_INLINE_IMAGE_BYTES}); larger photos are scaled down to fit.`,
      ),
  },
  outputSchema: {
    attachment: attachmentResultSchema,
    file: z.object({ status: fileStatusSchema, note: z.string() }),
    preview: z.object({
      kind: z.enum(["image", "text", "none"]),
      mimeType: z.string().nullable().describe("Of the image returned, when kind is image."),
      convertedFrom: z.string().nullable().describe('"image/heic" when a HEIC photo was converted to JPEG.'),
      resizedFrom: z
        .object({ width: z.number(), height: z.number(), bytes: z.number() })
        .nullable()
        .describe("The original's size when the image was scaled down to fit max_bytes."),
      width: z.number().nullable().describe("Of the image returned."),
      height: z.number().nullable().describe("Of the image returned."),
      text: z.string().nullable().describe("Start of the file's text (third-party content)."),
      truncated: z.boolean(),
      note: z.string().nullable().describe("Why there is no preview, when there is none."),
    }),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

export const getAttachment = defineTool({
  name: "get_attachment",
  permission: "read",
  ...getAttachmentTool,
  handler: (args, { deps }) =>
    guard(async (): Promise<CallToolResult> => {
      const ctx = new ToolContext(deps);
      const attachment = ctx.messages.getAttachment(args.id);
      if (!attachment) {
        throw new ToolInputError(
          `There is no attachment with id ${args.id}. Use search_attachments to find ids.`,
        );
      }
      const view = attachmentResult(ctx, attachment);
      const file = await locateAttachmentFile(attachment.path, attachmentRoots(ctx.messages.path));
      if (file.status === "outside") return errorResult(fileNote(file));
      const header = wrapUntrusted(attachmentLine(view));
      const preview = {
        kind: "none" as "image" | "text" | "none",
        mimeType: null as string | null,
        convertedFrom: null as string | null,
        resizedFrom: null as { width: number; height: number; bytes: number } | null,
        width: null as number | null,
        height: null as number | null,
        text: null as string | null,
        truncated: false,
        note: null as string | null,
      };
      const content: CallToolResult["content"] = [];
      if (file.status === "available") {
        const kind = readableKind(attachment.mimeType, attachment.name, file.realPath);
        if (looksLikeImage(attachment.mimeType, attachment.name)) {
          const image = await imagePreview(file.realPath, {
            maxBytes: args.max_bytes ?? MAX_INLINE_IMAGE_BYTES,
          });
          if (image.ok) {
            Object.assign(preview, {
              kind: "image",
              mimeType: image.mimeType,
              convertedFrom: image.convertedFrom,
              resizedFrom: image.resizedFrom,
              width: image.width,
              height: image.height,
            });
            content.push({ type: "image", data: image.data.toString("base64"), mimeType: image.mimeType });
          } else {
            preview.note = image.reason;
          }
        } else if (kind !== null) {
          try {
            const extracted = await extractText(file.realPath, kind, { maxChars: PREVIEW_CHARS });
            Object.assign(preview, { kind: "text", text: extracted.text, truncated: extracted.truncated });
          } catch (error) {
            preview.note = `No text: ${describeError(error)}.`;
          }
        } else {
          preview.note = "No preview for this type of file; open it from the path.";
        }
      }
      const lines = [`Attachment ${header}`, fileNote(file)];
      if (preview.kind === "image") {
        const how: string[] = [];
        if (preview.convertedFrom) how.push("converted from HEIC to JPEG");
        if (preview.resizedFrom) {
          const from = preview.resizedFrom;
          how.push(
            `scaled down from ${from.width}×${from.height} (${formatBytes(from.bytes)}) to ${preview.width}×${preview.height} JPEG`,
          );
        }
        lines.push(`The image follows${how.length > 0 ? ` (${how.join(", ")})` : ""}.`);
      }
      if (preview.kind === "text" && preview.text !== null) {
        lines.push(`Text${preview.truncated ? " (beginning only)" : ""}:\n${wrapUntrusted(preview.text)}`);
      }
      if (preview.note) lines.push(preview.note);
      content.unshift({ type: "text", text: lines.join("\n") });
      return {
        content,
        structuredContent: {
          attachment: view,
          file: { status: file.status, note: fileNote(file) },
          preview,
        },
      };
    }),
});

interface ContentMatch {
  attachment: AttachmentResult;
  matchCount: number;
  snippets: string[];
}

/** Case-insensitive matches of `query` in `text`, whitespace runs counted as one space (PDF lines break anywhere). */
export function findSnippets(text: string, query: string): { count: number; snippets: string[] } {
  const flat = text.replace(/\s+/g, " ");
  const haystack = flat.toLowerCase();
  const needle = query.replace(/\s+/g, " ").trim().toLowerCase();
  if (needle === "") return { count: 0, snippets: [] };
  const snippets: string[] = [];
  let count = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) {
    count++;
    if (snippets.length < SNIPPETS_PER_FILE) {
      const start = Math.max(0, at - SNIPPET_CONTEXT);
      const end = Math.min(flat.length, at + needle.length + SNIPPET_CONTEXT);
      snippets.push(`${start > 0 ? "…" : ""}${flat.slice(start, end)}${end < flat.length ? "…" : ""}`);
    }
  }
  return { count, snippets };
}

const searchAttachmentContentsTool = {
  title: "Search inside attachments",
  description:
    "Search the text inside attached documents (plain text, PDF, CSV, Markdown, contact cards) and return matching files with snippets. Use it when the user remembers what a file said rather than its name.",
  inputSchema: {
    query: z.string().min(1).max(200).describe("Text to look for, case-insensitive."),
    contact: contactInput,
    chat: chatInput,
    ...dateRangeInput,
    limit: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe("Most matching files to return (default 20)."),
    cursor: cursorInput,
  },
  outputSchema: {
    matches: z.array(
      z.object({
        attachment: attachmentResultSchema,
        matchCount: z.number().int(),
        snippets: z.array(z.string()).describe("Third-party content."),
      }),
    ),
    count: z.number().int(),
    filesSearched: z.number().int(),
    unreadableCount: z.number().int().describe("Searchable files that could not be read."),
    unreadable: z.array(z.object({ id: z.number().int(), name: z.string().nullable(), reason: z.string() })),
    nextCursor: z.string().nullable().describe("More files remain: pass this as cursor."),
    filter: z.string(),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

export const searchAttachmentContents = defineTool({
  name: "search_attachment_contents",
  permission: "read",
  ...searchAttachmentContentsTool,
  handler: (args, { deps }) =>
    guard(async () => {
      const ctx = new ToolContext(deps);
      const query = args.query.trim();
      if (query === "") throw new ToolInputError("The query is empty.");
      const limit = args.limit ?? 20;
      const built = attachmentQuery(ctx, args);
      if ("empty" in built) {
        return okResult(built.emptyText, {
          matches: [],
          count: 0,
          filesSearched: 0,
          unreadableCount: 0,
          unreadable: [],
          nextCursor: null,
          filter: built.empty,
        });
      }
      const roots = attachmentRoots(ctx.messages.path);
      const matches: ContentMatch[] = [];
      const unreadable: { id: number; name: string | null; reason: string }[] = [];
      let filesSearched = 0;
      let beforeRowid = args.cursor === undefined ? undefined : decodeCursor(args.cursor, "beforeRowid");
      let mayHaveMore = true;
      const budgetLeft = () => filesSearched + unreadable.length < FILES_PER_CONTENT_SEARCH;
      // Newest first in batches; stop at the match limit or the per-call file budget, whichever first.
      scan: while (mayHaveMore && matches.length < limit && budgetLeft()) {
        const batch = ctx.messages.searchAttachments({
          ...built.query,
          beforeRowid,
          limit: CANDIDATE_BATCH,
        });
        mayHaveMore = batch.length === CANDIDATE_BATCH;
        for (const [index, attachment] of batch.entries()) {
          beforeRowid = attachment.rowid;
          const kind = readableKind(attachment.mimeType, attachment.name, attachment.path);
          if (kind === null) continue;
          const file = await locateAttachmentFile(attachment.path, roots);
          if (file.status !== "available") {
            unreadable.push({ id: attachment.rowid, name: attachment.name, reason: fileNote(file) });
          } else {
            try {
              const { text } = await extractText(file.realPath, kind);
              filesSearched++;
              const found = findSnippets(text, query);
              if (found.count > 0) {
                matches.push({
                  attachment: attachmentResult(ctx, attachment),
                  matchCount: found.count,
                  snippets: found.snippets,
                });
              }
            } catch (error) {
              unreadable.push({
                id: attachment.rowid,
                name: attachment.name,
                reason: `Could not read it: ${describeError(error)}.`,
              });
            }
          }
          if (matches.length >= limit || !budgetLeft()) {
            if (index < batch.length - 1) mayHaveMore = true;
            break scan;
          }
        }
      }
      const nextCursor = mayHaveMore && beforeRowid !== undefined ? encodeCursor({ beforeRowid }) : null;
      const what = (who: string) =>
        [`Attachments containing "${query}"`, who].filter((p) => p !== "").join(" ");
      const lines = matches.map(
        (m) =>
          `${attachmentLine(m.attachment)} — ${m.matchCount} match${m.matchCount === 1 ? "" : "es"}\n` +
          m.snippets.map((s) => `    ${s}`).join("\n"),
      );
      const unreadableText =
        unreadable.length > 0
          ? `\n${unreadable.length} file${unreadable.length === 1 ? "" : "s"} could not be read, e.g.:\n${wrapUntrusted(
              unreadable
                .slice(0, 5)
                .map((u) => `#${u.id} ${u.name ?? "unnamed"}: ${u.reason}`)
                .join("\n"),
            )}`
          : "";
      const text =
        `${what(built.header)}: ${matches.length} matching file${matches.length === 1 ? "" : "s"} (${filesSearched} searched).\n` +
        `${fencedLines(lines, "No matches.", built.names)}${unreadableText}${moreNote("files to search", nextCursor)}`;
      return okResult(text, {
        matches,
        count: matches.length,
        filesSearched,
        unreadableCount: unreadable.length,
        unreadable: unreadable.slice(0, LISTED_UNREADABLE),
        nextCursor,
        filter: what(built.description),
      });
    }),
});
