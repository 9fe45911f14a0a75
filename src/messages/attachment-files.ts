// Reading Messages attachment files safely: only files inside the Messages attachment folders (checked
// after symlinks are resolved), with size and page caps; text from plain-text files and PDFs; inline
// image previews, with HEIC converted to JPEG. Nothing here writes anywhere.
import { open, realpath, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, extname, join } from "node:path";
import { isInsideAny, realRoots } from "../util/paths.js";
import { UserFacingError } from "../util/user-facing-error.js";

/** Folders beside chat.db that Messages keeps received files in. */
export const ATTACHMENT_FOLDERS = ["Attachments", "StickerCache"] as const;

/** Largest image returned inline (after HEIC conversion): bigger ones cost a model's context for little. */
export const MAX_INLINE_IMAGE_BYTES = 1024 * 1024;
/** HEIC files above this are not decoded: the decoder holds the whole bitmap in memory. */
export const MAX_HEIC_INPUT_BYTES = 25 * 1024 * 1024;
export const MAX_TEXT_FILE_BYTES = 5 * 1024 * 1024;
export const MAX_PDF_BYTES = 25 * 1024 * 1024;
export const MAX_PDF_PAGES = 50;
export const MAX_EXTRACTED_CHARS = 200_000;

/**
 * The folders attachment paths must resolve into: `Attachments` and `StickerCache` beside chat.db. When
 * chat.db is a copy outside a `Messages` folder, the store resolves `~/Library/Messages/…` paths against
 * the home folder, so those folders count too.
 */
export function attachmentRoots(chatDbPath: string, home: string = homedir()): string[] {
  const messagesDir = dirname(chatDbPath);
  const roots = ATTACHMENT_FOLDERS.map((folder) => join(messagesDir, folder));
  if (basename(messagesDir) !== "Messages") {
    roots.push(...ATTACHMENT_FOLDERS.map((folder) => join(home, "Library", "Messages", folder)));
  }
  return [...new Set(roots)];
}

export type AttachmentFile =
  | { status: "available"; realPath: string; sizeBytes: number }
  | { status: "not_downloaded" }
  | { status: "missing"; path: string }
  | { status: "outside"; path: string; realPath: string }
  | { status: "not_a_file"; path: string }
  | { status: "unreadable"; path: string; reason: string };

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/**
 * Where an attachment's file really is, and whether it may be read. Symlinks and `..` are resolved
 * (realpath) before the containment check, so a link inside the folder that points elsewhere is refused.
 * A missing file is reported as missing before any containment question: it reveals nothing.
 */
export async function locateAttachmentFile(
  path: string | null,
  roots: readonly string[],
): Promise<AttachmentFile> {
  if (path === null || path === "") return { status: "not_downloaded" };
  let real: string;
  try {
    real = await realpath(path);
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT" || code === "ENOTDIR") return { status: "missing", path };
    if (code === "EACCES" || code === "EPERM") {
      return {
        status: "unreadable",
        path,
        reason: "permission denied (the app running this server needs Full Disk Access)",
      };
    }
    return { status: "unreadable", path, reason: code ?? String(error) };
  }
  if (!isInsideAny(real, await realRoots(roots))) {
    return { status: "outside", path, realPath: real };
  }
  // The folder belongs to the user, so a swap between this check and the read needs someone who can
  // already write there; the check is against links planted in message data, not a local attacker.
  const info = await stat(real);
  if (!info.isFile()) return { status: "not_a_file", path };
  return { status: "available", realPath: real, sizeBytes: info.size };
}

/** Why a file's contents could not be used, in words for a person. */
export class AttachmentReadError extends UserFacingError {
  override readonly name = "AttachmentReadError";
}

/** Reads at most `maxBytes`; a bigger file is an AttachmentReadError rather than a silent truncation. */
export async function readCapped(realPath: string, maxBytes: number): Promise<Buffer> {
  const handle = await open(realPath, "r");
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) {
      throw new AttachmentReadError(
        `it is ${formatSize(size)}, over the ${formatSize(maxBytes)} limit for reading`,
      );
    }
    const buffer = Buffer.alloc(size);
    let offset = 0;
    while (offset < size) {
      const { bytesRead } = await handle.read(buffer, offset, size - offset, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    return buffer.subarray(0, offset);
  } finally {
    await handle.close();
  }
}

function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

// ---- kinds -------------------------------------------------------------------------------------------

const TEXT_EXTENSIONS = new Set([
  ".txt",
  ".text",
  ".vcf",
  ".vcard",
  ".csv",
  ".tsv",
  ".md",
  ".markdown",
  ".ics",
  ".json",
  ".log",
]);
const TEXT_MIME_TYPES = new Set(["application/json", "application/csv", "application/x-vcard"]);

export type ReadableKind = "text" | "pdf";

/** Whether the file's text can be searched, from its MIME type or (when Messages stored none) its name. */
export function readableKind(
  mimeType: string | null,
  name: string | null,
  path: string | null,
): ReadableKind | null {
  const mime = (mimeType ?? "").toLowerCase().split(";")[0]?.trim() ?? "";
  const extension = extname(name ?? path ?? "").toLowerCase();
  if (mime === "application/pdf" || extension === ".pdf") return "pdf";
  if (mime.startsWith("text/") || TEXT_MIME_TYPES.has(mime) || TEXT_EXTENSIONS.has(extension)) return "text";
  return null;
}

export interface ExtractedText {
  text: string;
  /** Cut at the character or page limit. */
  truncated: boolean;
  /** PDFs only. */
  pages?: number;
  pagesRead?: number;
}

export interface TextLimits {
  maxChars?: number;
  maxPages?: number;
}

/** The text inside a plain-text or PDF file; AttachmentReadError (with the reason in words) otherwise. */
export async function extractText(
  realPath: string,
  kind: ReadableKind,
  limits: TextLimits = {},
): Promise<ExtractedText> {
  const maxChars = limits.maxChars ?? MAX_EXTRACTED_CHARS;
  if (kind === "text") {
    const bytes = await readCapped(realPath, MAX_TEXT_FILE_BYTES);
    if (bytes.includes(0)) throw new AttachmentReadError("it is not a text file (it contains binary data)");
    // UTF-16 files from Windows start with a byte-order mark; everything else Messages gets is UTF-8.
    const text =
      bytes[0] === 0xff && bytes[1] === 0xfe
        ? bytes.subarray(2).toString("utf16le")
        : new TextDecoder().decode(bytes);
    return { text: text.slice(0, maxChars), truncated: text.length > maxChars };
  }
  return extractPdfText(
    await readCapped(realPath, MAX_PDF_BYTES),
    limits.maxPages ?? MAX_PDF_PAGES,
    maxChars,
  );
}

async function extractPdfText(bytes: Buffer, maxPages: number, maxChars: number): Promise<ExtractedText> {
  // Loaded on first use: pdf.js is large and most calls never touch a PDF.
  const { getDocument } = await import("pdfjs-dist/legacy/build/pdf.mjs");
  const task = getDocument({
    data: new Uint8Array(bytes),
    // Text extraction needs neither fonts nor eval; off keeps a hostile PDF from running generated code.
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    verbosity: 0,
  });
  try {
    let document: Awaited<typeof task.promise>;
    try {
      document = await task.promise;
    } catch (error) {
      const name = (error as Error | null)?.name;
      if (name === "PasswordException") throw new AttachmentReadError("the PDF is password-protected");
      if (name === "InvalidPDFException") throw new AttachmentReadError("it is not a valid PDF");
      throw new AttachmentReadError(`the PDF could not be read (${firstLine(error)})`);
    }
    const pages = document.numPages;
    const chunks: string[] = [];
    let length = 0;
    let pagesRead = 0;
    for (let number = 1; number <= Math.min(pages, maxPages) && length <= maxChars; number++) {
      const page = await document.getPage(number);
      const content = await page.getTextContent();
      let pageText = "";
      for (const item of content.items) {
        if ("str" in item) pageText += item.str + (item.hasEOL ? "\n" : "");
      }
      page.cleanup();
      chunks.push(pageText.trim());
      length += pageText.length;
      pagesRead = number;
    }
    const text = chunks.join("\n\n");
    return {
      text: text.slice(0, maxChars),
      truncated: text.length > maxChars || pagesRead < pages,
      pages,
      pagesRead,
    };
  } finally {
    await task.destroy();
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}

// ---- images ------------------------------------------------------------------------------------------

/** Image types MCP clients display inline. */
const INLINE_IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
const HEIF_BRANDS = new Set(["heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "heif"]);

/** The image type from the file's first bytes; the stored MIME type can be wrong or missing. */
export function sniffImageType(head: Uint8Array): string | null {
  const ascii = (from: number, to: number) => Buffer.from(head.subarray(from, to)).toString("latin1");
  if (head[0] === 0x89 && ascii(1, 4) === "PNG") return "image/png";
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return "image/jpeg";
  if (ascii(0, 4) === "GIF8") return "image/gif";
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  if (ascii(4, 8) === "ftyp" && HEIF_BRANDS.has(ascii(8, 12))) return "image/heic";
  return null;
}

export function looksLikeImage(mimeType: string | null, name: string | null): boolean {
  if ((mimeType ?? "").toLowerCase().startsWith("image/")) return true;
  return /\.(png|jpe?g|gif|webp|heic|heif|tiff?|bmp)$/i.test(name ?? "");
}

/** Longest side, in pixels, of an image sent to a model: what vision models use without scaling down again. */
export const PREVIEW_MAX_SIDE = 1568;
/** Photos larger than this are not decoded at all (a 48 MP ProRAW is about 75 MB). */
export const MAX_IMAGE_INPUT_BYTES = 100 * 1024 * 1024;

export type ImagePreview =
  | {
      ok: true;
      data: Buffer;
      mimeType: string;
      /** "image/heic" when a HEIC photo was converted; null otherwise. */
      convertedFrom: string | null;
      /** Size of the original when it was scaled down or re-encoded to fit; null when sent as is. */
      resizedFrom: { width: number; height: number; bytes: number } | null;
      width: number | null;
      height: number | null;
    }
  | { ok: false; reason: string };

export interface ImagePreviewOptions {
  /** The largest image to return, in bytes (default 1 MiB). Larger ones are scaled down to fit. */
  maxBytes?: number;
  /** Longest side of a scaled-down image (default PREVIEW_MAX_SIDE). */
  maxSide?: number;
}

/**
 * An image to show inline. PNG/JPEG/GIF/WebP within `maxBytes` go as they are; larger ones, and HEIC
 * photos (decoded by heic-convert: sharp's prebuilt libvips has no HEVC decoder), are scaled down with
 * sharp to at most `maxSide` pixels on the longest side and re-encoded as JPEG, lowering quality and then
 * size until they fit. Anything else: a reason in words.
 */
export async function imagePreview(
  realPath: string,
  options: ImagePreviewOptions | number = {},
): Promise<ImagePreview> {
  const { maxBytes = MAX_INLINE_IMAGE_BYTES, maxSide = PREVIEW_MAX_SIDE } =
    typeof options === "number" ? { maxBytes: options } : options;
  const handle = await open(realPath, "r");
  const head = Buffer.alloc(32);
  let size: number;
  try {
    size = (await handle.stat()).size;
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  const type = sniffImageType(head);
  if (type === null)
    return { ok: false, reason: "no preview: the file is not a PNG, JPEG, GIF, WebP or HEIC image" };
  if (type !== "image/heic" && !INLINE_IMAGE_TYPES.has(type))
    return { ok: false, reason: `no preview for ${type}` };
  if (type !== "image/heic" && size <= maxBytes) {
    const data = await readCapped(realPath, maxBytes);
    const { width, height } = await imageSize(data);
    return { ok: true, data, mimeType: type, convertedFrom: null, resizedFrom: null, width, height };
  }
  const limit = type === "image/heic" ? MAX_HEIC_INPUT_BYTES : MAX_IMAGE_INPUT_BYTES;
  const label = type === "image/heic" ? "HEIC preview not available" : "no inline preview";
  if (size > limit) {
    return { ok: false, reason: `${label}: the file is ${formatSize(size)}, too large to convert` };
  }
  let input: Buffer;
  try {
    input = await readCapped(realPath, limit);
    if (type === "image/heic") {
      const { default: convert } = await import("heic-convert");
      const output = await convert({ buffer: new Uint8Array(input), format: "JPEG", quality: 0.92 });
      input = output instanceof Uint8Array ? Buffer.from(output) : Buffer.from(new Uint8Array(output));
    }
  } catch (error) {
    return { ok: false, reason: `${label}: the image could not be converted (${firstLine(error)})` };
  }
  try {
    const scaled = await scaleToFit(input, maxBytes, maxSide);
    if (scaled === null) {
      return {
        ok: false,
        reason: `${label}: even scaled down it stays over the ${formatSize(maxBytes)} limit`,
      };
    }
    const original = await imageSize(input);
    return {
      ok: true,
      data: scaled.data,
      mimeType: "image/jpeg",
      convertedFrom: type === "image/heic" ? "image/heic" : null,
      resizedFrom: { width: original.width ?? 0, height: original.height ?? 0, bytes: size },
      width: scaled.width,
      height: scaled.height,
    };
  } catch (error) {
    return { ok: false, reason: `${label}: the image could not be scaled down (${firstLine(error)})` };
  }
}

async function imageSize(data: Buffer): Promise<{ width: number | null; height: number | null }> {
  try {
    const { default: sharp } = await import("sharp");
    const meta = await sharp(data, { animated: false }).metadata();
    const rotated = (meta.orientation ?? 1) >= 5;
    const width = meta.width ?? null;
    const height = meta.height ?? null;
    return rotated ? { width: height, height: width } : { width, height };
  } catch {
    return { width: null, height: null };
  }
}

/**
 * JPEG of at most `maxSide` px and `maxBytes`: first lower quality, then smaller sides. Upright (EXIF
 * rotation applied), first frame of animations, transparency flattened on white. null if nothing fits.
 */
async function scaleToFit(
  input: Buffer,
  maxBytes: number,
  maxSide: number,
): Promise<{ data: Buffer; width: number; height: number } | null> {
  const { default: sharp } = await import("sharp");
  for (const side of [
    maxSide,
    Math.round(maxSide * 0.75),
    Math.round(maxSide / 2),
    Math.round(maxSide / 4),
  ]) {
    for (const quality of [82, 70, 55]) {
      const { data, info } = await sharp(input, { animated: false, failOn: "none" })
        .rotate()
        .resize({ width: side, height: side, fit: "inside", withoutEnlargement: true })
        .flatten({ background: "#ffffff" })
        .jpeg({ quality, mozjpeg: true })
        .toBuffer({ resolveWithObject: true });
      if (data.length <= maxBytes) return { data, width: info.width, height: info.height };
    }
  }
  return null;
}
