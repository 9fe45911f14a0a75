// Thumbnails for the conversation view: every photo is decoded and scaled down here, on the server, so the
// view gets a few kilobytes of WebP as a data: URI and never a raw multi-megabyte file (nor a path or a URL
// it would have to fetch: the view's CSP allows images from data: only).
import { open, stat } from "node:fs/promises";
import {
  attachmentRoots,
  locateAttachmentFile,
  looksLikeImage,
  MAX_HEIC_INPUT_BYTES,
  readCapped,
  sniffImageType,
} from "../../messages/attachment-files.js";

/** Longest side of a thumbnail in pixels: a bubble shows it at up to 220 CSS px, sharp on 2× screens. */
export const THUMBNAIL_SIDE = 440;
/** Photos larger than this get a file chip instead: decoding them would cost too much for a preview. */
export const MAX_THUMBNAIL_INPUT_BYTES = 40 * 1024 * 1024;
/** Pixel bound for sharp (a 48 MP photo is within it, a decompression bomb is not). */
const MAX_INPUT_PIXELS = 60_000_000;
const THUMBNAIL_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/heic"]);

export interface Thumbnail {
  /** `data:image/webp;base64,…` */
  src: string;
  width: number;
  height: number;
}

/** Recently made thumbnails by file and version, so scrolling back and forth does not decode again. */
const cache = new Map<string, Thumbnail>();
const CACHE_ENTRIES = 300;

/**
 * A small WebP of the attachment at `path`, or null when it is not an image this can decode, is not on
 * disk, lies outside the Messages attachment folders (after symlinks), or is too large to decode cheaply.
 */
export async function thumbnailFor(
  attachment: { path: string | null; mimeType: string | null; name: string | null },
  chatDbPath: string,
): Promise<Thumbnail | null> {
  if (!looksLikeImage(attachment.mimeType, attachment.name)) return null;
  const file = await locateAttachmentFile(attachment.path, attachmentRoots(chatDbPath));
  if (file.status !== "available") return null;
  const info = await stat(file.realPath);
  const key = `${file.realPath}\0${info.size}\0${info.mtimeMs}`;
  const known = cache.get(key);
  if (known) return known;
  if (info.size > MAX_THUMBNAIL_INPUT_BYTES) return null;
  const head = Buffer.alloc(32);
  const handle = await open(file.realPath, "r");
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  const type = sniffImageType(head);
  if (type === null || !THUMBNAIL_TYPES.has(type)) return null;
  try {
    let input: Buffer;
    if (type === "image/heic") {
      // sharp's prebuilt libvips has no HEVC decoder; heic-convert (pure JS) does it, within a bound.
      if (info.size > MAX_HEIC_INPUT_BYTES) return null;
      const { default: convert } = await import("heic-convert");
      const raw = await readCapped(file.realPath, MAX_HEIC_INPUT_BYTES);
      const jpeg = await convert({ buffer: new Uint8Array(raw), format: "JPEG", quality: 0.8 });
      input = Buffer.from(jpeg instanceof Uint8Array ? jpeg : new Uint8Array(jpeg));
    } else {
      input = await readCapped(file.realPath, MAX_THUMBNAIL_INPUT_BYTES);
    }
    const { default: sharp } = await import("sharp");
    const { data, info: out } = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, animated: false })
      .rotate()
      .resize(THUMBNAIL_SIDE, THUMBNAIL_SIDE, { fit: "inside", withoutEnlargement: true })
      .flatten({ background: "#ffffff" })
      .webp({ quality: 60 })
      .toBuffer({ resolveWithObject: true });
    const thumbnail = {
      src: `data:image/webp;base64,${data.toString("base64")}`,
      width: out.width,
      height: out.height,
    };
    if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
    cache.set(key, thumbnail);
    return thumbnail;
  } catch {
    // A damaged or unusual file: the view shows it as a file chip instead.
    return null;
  }
}
