// Thumbnails for the conversation view: small, made only from image files inside the Messages attachment
// folders (after symlinks), never from a file a message merely claims is an image.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import sharp from "sharp";
import { makeJpeg, makePng } from "../../src/demo/sample-files.js";
import { THUMBNAIL_SIDE, thumbnailFor } from "../../src/mcp/apps/thumbnail.js";

let dir: string;
let chatDb: string;
let attachments: string;
let outside: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "apps-thumbnail-"));
  chatDb = join(dir, "Messages", "chat.db");
  attachments = join(dir, "Messages", "Attachments", "aa");
  outside = join(dir, "elsewhere");
  mkdirSync(attachments, { recursive: true });
  mkdirSync(outside);
  writeFileSync(chatDb, "");
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("a large photo becomes a WebP of at most THUMBNAIL_SIDE pixels and a few kilobytes", async () => {
  const path = join(attachments, "wide.png");
  writeFileSync(path, makePng(1800, 600, 30));
  const thumb = await thumbnailFor({ path, mimeType: "image/png", name: "wide.png" }, chatDb);
  assert.ok(thumb);
  assert.equal(thumb.width, THUMBNAIL_SIDE);
  assert.equal(thumb.height, Math.round((600 * THUMBNAIL_SIDE) / 1800));
  const data = Buffer.from(thumb.src.replace(/^data:image\/webp;base64,/, ""), "base64");
  assert.equal((await sharp(data).metadata()).format, "webp");
  assert.ok(data.length < 40_000, `${data.length} bytes`);
});

test("a small JPEG is not enlarged", async () => {
  const path = join(attachments, "small.jpg");
  writeFileSync(path, makeJpeg());
  const thumb = await thumbnailFor({ path, mimeType: "image/jpeg", name: "small.jpg" }, chatDb);
  assert.ok(thumb);
  assert.ok(thumb.width <= THUMBNAIL_SIDE && thumb.height <= THUMBNAIL_SIDE);
});

test("no thumbnail for a file outside the attachment folders, even through a link inside them", async () => {
  const secret = join(outside, "secret.png");
  writeFileSync(secret, makePng(64, 64));
  assert.equal(await thumbnailFor({ path: secret, mimeType: "image/png", name: "secret.png" }, chatDb), null);
  const link = join(attachments, "innocent.png");
  symlinkSync(secret, link);
  assert.equal(await thumbnailFor({ path: link, mimeType: "image/png", name: "innocent.png" }, chatDb), null);
});

test("no thumbnail for what only claims to be an image, a missing file, or no file", async () => {
  const fake = join(attachments, "photo.png");
  writeFileSync(fake, "<svg onload=alert(1)>not a png</svg>");
  assert.equal(await thumbnailFor({ path: fake, mimeType: "image/png", name: "photo.png" }, chatDb), null);
  const gone = join(attachments, "gone.png");
  assert.equal(await thumbnailFor({ path: gone, mimeType: "image/png", name: "gone.png" }, chatDb), null);
  assert.equal(await thumbnailFor({ path: null, mimeType: "image/png", name: "x.png" }, chatDb), null);
  const pdf = join(attachments, "doc.pdf");
  writeFileSync(pdf, "%PDF-1.4");
  assert.equal(await thumbnailFor({ path: pdf, mimeType: "application/pdf", name: "doc.pdf" }, chatDb), null);
});
