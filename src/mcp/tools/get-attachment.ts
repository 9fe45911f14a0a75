// get_attachment: one file as an image, text, or its details and path. Files are read only from the
// Messages attachment folders, after symlinks are resolved.

import type { CallToolResult } from "@modelcontextprotocol/server";
import { z } from "zod";
import {
  attachmentRoots,
  extractText,
  imagePreview,
  locateAttachmentFile,
  looksLikeImage,
  MAX_INLINE_IMAGE_BYTES,
  readableKind,
} from "../../messages/attachment-files.js";
import { timeZoneNote } from "../../util/dates.js";
import {
  attachmentLine,
  attachmentResult,
  attachmentResultSchema,
  fileNote,
  MAX_IMAGE_BYTES,
  MIN_IMAGE_BYTES,
  PREVIEW_CHARS,
} from "../core/attachment-view.js";
import { ToolContext } from "../core/tool-context.js";
import { describeError, errorResult, guard, ToolInputError } from "../core/tool-result.js";
import { formatBytes, wrapUntrusted } from "../format.js";
import { defineTool } from "../tool-definition.js";

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
      .describe(`Largest image in bytes (default ${MAX_INLINE_IMAGE_BYTES}); bigger photos are scaled down.`),
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
      const header = wrapUntrusted(attachmentLine(view, ctx.timeZone));
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
      const lines = [
        `Attachment ${header}`,
        timeZoneNote(ctx.timeZone, [new Date(view.date)]),
        fileNote(file),
      ];
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
