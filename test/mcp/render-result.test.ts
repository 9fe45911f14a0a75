// format "json": the data as JSON with every string capped, nothing else changed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { capStrings } from "../../src/mcp/render-result.js";
import { capText, JSON_FIELD_CAP, JSON_TEXT_CAP } from "../../src/mcp/render-truncate.js";

/** What capStrings does, written the plain way: the reference for its faster loop. */
function reference(value: unknown, key = ""): unknown {
  if (typeof value === "string") {
    return capText(value, key === "text" || key === "lastMessagePreview" ? JSON_TEXT_CAP : JSON_FIELD_CAP);
  }
  if (Array.isArray(value)) return value.map((item) => reference(item, key));
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reference(v, k)]));
  }
  return value;
}

test("capStrings caps each string for its field and keeps everything else, keys in order", () => {
  const long = "x".repeat(JSON_TEXT_CAP + 10);
  const date = new Date(Date.UTC(2025, 0, 2));
  const data = {
    chats: [
      { name: long, lastMessage: { text: long, id: 3, read: null, at: date }, tags: ["a", long] },
      { z: 1, a: 2, lastMessagePreview: long, nested: [[long, { text: long }]], flag: false },
    ],
    count: 2,
    nextCursor: null,
  };
  const capped = capStrings(data);
  assert.equal(JSON.stringify(capped), JSON.stringify(reference(data)));
  assert.deepEqual(capped, reference(data));
  assert.ok(JSON.stringify(capped).length < JSON.stringify(data).length, "long strings were cut");
  assert.equal(data.chats[0]?.name, long, "the input is left as it was");
});

test("capStrings keeps a key named __proto__ as data, as JSON.parse makes it", () => {
  const parsed = JSON.parse('{"__proto__": {"name": "x"}, "b": 1}') as Record<string, unknown>;
  const capped = capStrings(parsed);
  assert.equal(JSON.stringify(capped), JSON.stringify(parsed));
  assert.equal(Object.getPrototypeOf(capped), Object.prototype);
});
