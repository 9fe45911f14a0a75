// Photos as a model receives them: small ones untouched, phone-sized ones scaled down with sharp.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import sharp from "sharp";
import { makePng } from "../../src/demo/sample-files.js";
import { imagePreview, PREVIEW_MAX_SIDE } from "../../src/messages/attachment-files.js";

describe("image previews", () => {
  let dir: string;
  let photo: string;
  let small: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "images-"));
    photo = join(dir, "IMG_2001.png");
    small = join(dir, "small.png");
    writeFileSync(photo, makePng(2016, 1512, 4));
    writeFileSync(small, makePng(48, 32));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a multi-megabyte photo comes back as a JPEG of at most 1568 px and 1 MiB", async () => {
    assert.ok(statSync(photo).size > 3 * 1024 * 1024);
    const preview = await imagePreview(photo);
    assert.ok(preview.ok);
    assert.equal(preview.mimeType, "image/jpeg");
    assert.ok(preview.data.length <= 1024 * 1024, `${preview.data.length} bytes`);
    assert.deepEqual([preview.width, preview.height], [PREVIEW_MAX_SIDE, 1176]);
    assert.deepEqual(preview.resizedFrom, { width: 2016, height: 1512, bytes: statSync(photo).size });
    // What was returned really is that JPEG.
    const meta = await sharp(preview.data).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ["jpeg", 1568, 1176]);
  });
  test("max_bytes is honoured by lowering quality, then size", async () => {
    const preview = await imagePreview(photo, { maxBytes: 60_000 });
    assert.ok(preview.ok);
    assert.ok(preview.data.length <= 60_000, `${preview.data.length} bytes`);
    assert.ok((preview.width ?? 0) <= PREVIEW_MAX_SIDE);
  });
  test("an image within the limit is sent as it is", async () => {
    const preview = await imagePreview(small);
    assert.ok(preview.ok);
    assert.equal(preview.mimeType, "image/png");
    assert.equal(preview.resizedFrom, null);
    assert.deepEqual([preview.width, preview.height], [48, 32]);
  });
  test("a file that only claims to be an image gets a reason, not an exception", async () => {
    const fake = join(dir, "fake.png");
    writeFileSync(fake, "not an image at all");
    const preview = await imagePreview(fake);
    assert.equal(preview.ok, false);
  });
});
