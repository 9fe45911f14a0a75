// search_attachment_contents: the text inside attached documents, with snippets.

import { z } from "zod";
import {
  attachmentRoots,
  extractText,
  locateAttachmentFile,
  readableKind,
} from "../../messages/attachment-files.js";
import { timeZoneNote } from "../../util/dates.js";
import {
  type AttachmentResult,
  attachmentLine,
  attachmentQuery,
  attachmentResult,
  attachmentResultSchema,
  CANDIDATE_BATCH,
  FILES_PER_CONTENT_SEARCH,
  fileNote,
  LISTED_UNREADABLE,
  SNIPPET_CONTEXT,
  SNIPPETS_PER_FILE,
} from "../core/attachment-view.js";
import {
  chatInput,
  contactInput,
  cursorInput,
  dateWindowInput,
  timezoneInput,
} from "../core/input-schemas.js";
import { decodeCursor, encodeCursor, moreNote } from "../core/paging.js";
import { ToolContext } from "../core/tool-context.js";
import { describeError, guard, okResult, ToolInputError } from "../core/tool-result.js";
import { fencedLines, wrapUntrusted } from "../format.js";
import { defineTool } from "../tool-definition.js";

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
    ...dateWindowInput,
    limit: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe("Most matching files to return (default 20)."),
    cursor: cursorInput,
    timezone: timezoneInput,
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
      const ctx = new ToolContext(deps, { timeZone: args.timezone });
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
          `${attachmentLine(m.attachment, ctx.timeZone)} — ${m.matchCount} match${m.matchCount === 1 ? "" : "es"}\n` +
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
        (matches.length > 0
          ? `${timeZoneNote(
              ctx.timeZone,
              matches.map((m) => new Date(m.attachment.date)),
            )}\n`
          : "") +
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
