// Long third-party fields are cut visibly, with the size of the whole.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { capText, formatBytes, isOverCap, truncationMarker } from "../../src/mcp/render-truncate.js";

describe("capText", () => {
  test("short text is untouched", () => {
    assert.equal(capText("hello", 5), "hello");
    assert.equal(capText("", 0), "");
    assert.equal(isOverCap("hello", 5), false);
    assert.equal(isOverCap(null, 5), false);
  });

  test("long text keeps its start and says how big the whole was", () => {
    const name = "x".repeat(1024 * 1024);
    const capped = capText(name, 80);
    assert.equal(capped, `${"x".repeat(80)}… [truncated, 1.0 MB]`);
    assert.equal(capText("é".repeat(3000), 10), `${"é".repeat(10)}… [truncated, 6 KB]`);
    assert.equal(
      capText("a".repeat(50), 10, "whole text: message_id 7"),
      `${"a".repeat(10)}… [truncated, 50 B; whole text: message_id 7]`,
    );
    assert.equal(isOverCap(name, 80), true);
  });

  test("never splits a surrogate pair, never grows past the cap plus its marker", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), fc.nat(120), (text, max) => {
        const capped = capText(text, max);
        if (text.length <= max) return assert.equal(capped, text);
        const kept = capped.slice(0, capped.length - truncationMarker(text).length);
        assert.ok(text.startsWith(kept));
        assert.ok(kept.length <= max && kept.length >= max - 1);
        // A pair that was whole in the text is never cut in two.
        const last = kept.charCodeAt(kept.length - 1);
        const next = text.charCodeAt(kept.length);
        assert.ok(!(last >= 0xd800 && last <= 0xdbff && next >= 0xdc00 && next <= 0xdfff));
      }),
    );
  });
});

test("formatBytes", () => {
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(204_800), "200 KB");
  assert.equal(formatBytes(1.25 * 1024 * 1024), "1.3 MB");
});
