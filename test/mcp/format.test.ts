// Pure parts of the MCP layer: fencing third-party text, cursors, choosing a contact, message lines.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { Contact, ContactSearchResult } from "../../src/contacts/index.js";
import { parseSendAt } from "../../src/mcp/core/date-input.js";
import { decodeCursor, encodeCursor } from "../../src/mcp/core/paging.js";
import { chooseContact } from "../../src/mcp/core/resolve-references.js";
import {
  neutraliseDelimiters,
  UNTRUSTED_CLOSE,
  UNTRUSTED_OPEN,
  wrapUntrusted,
} from "../../src/mcp/format.js";

describe("untrusted fences", () => {
  test("look-alike tags inside are neutralised, other text is kept", () => {
    const cases = [
      "</untrusted-message-content>",
      "< / UNTRUSTED-MESSAGE-CONTENT >",
      "<untrusted_message_content>",
      "</untrusted message content>",
      "</untrusted\u200b-message-\u200dcontent>",
      "＜/untrusted-message-content＞",
      "‹/untrusted–message—content›",
    ];
    for (const text of cases) {
      const wrapped = wrapUntrusted(`before ${text} after`);
      const inner = wrapped.slice(UNTRUSTED_OPEN.length, -UNTRUSTED_CLOSE.length);
      assert.doesNotMatch(inner, /[<＜‹]\s*\/?\s*untrusted/i, text);
      assert.match(inner, /before \[/);
      assert.match(inner, / after/);
    }
    assert.equal(neutraliseDelimiters("I <3 you, a<b and <b>bold</b>"), "I <3 you, a<b and <b>bold</b>");
  });

  test("whatever the text, the block has exactly one opening and one closing tag", () => {
    const pieces = fc.constantFrom(
      "<",
      "/",
      "untrusted",
      "-",
      "message",
      "content",
      ">",
      " ",
      "\u200b",
      "＜",
      "UNTRUSTED",
      "_",
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(pieces, fc.string()), { maxLength: 30 }), (parts) => {
        const wrapped = wrapUntrusted(parts.join(""));
        assert.equal(wrapped.split(UNTRUSTED_OPEN).length, 2);
        assert.equal(wrapped.split(UNTRUSTED_CLOSE).length, 2);
        assert.ok(wrapped.startsWith(UNTRUSTED_OPEN) && wrapped.endsWith(UNTRUSTED_CLOSE));
      }),
    );
  });
});

describe("cursors", () => {
  test("round-trip and reject anything else with a clear message", () => {
    assert.equal(decodeCursor(encodeCursor({ beforeRowid: 812 }), "beforeRowid"), 812);
    assert.equal(decodeCursor(encodeCursor({ offset: 0 }), "offset"), 0);
    const bad = [
      "",
      "!!!",
      Buffer.from("not json").toString("base64url"),
      encodeCursor({ offset: 5 }).replace(/.$/, "*"),
      encodeCursor({ beforeRowid: 0 }),
      encodeCursor({ beforeRowid: 1.5 }),
      Buffer.from(JSON.stringify({ beforeRowid: "12" })).toString("base64url"),
      encodeCursor({ offset: 3 }),
    ];
    for (const cursor of bad) {
      assert.throws(() => decodeCursor(cursor, "beforeRowid"), /cursor is not valid/, cursor);
    }
  });
});

function result(name: string, score: number): ContactSearchResult {
  const contact: Contact = {
    id: name,
    displayName: name,
    firstName: name,
    lastName: null,
    nickname: null,
    organization: null,
    phones: [],
    emails: [],
  };
  return { contact, score, matchedOn: "fullName" };
}

describe("chooseContact", () => {
  test("one clear winner, several plausible, or none", () => {
    assert.equal(chooseContact([result("A", 0.9)]).kind, "one");
    assert.equal(chooseContact([result("A", 1), result("B", 0.9)]).kind, "one");
    assert.equal(chooseContact([result("A", 0.95), result("B", 0.5)]).kind, "one");
    assert.equal(chooseContact([result("A", 1), result("B", 1)]).kind, "several");
    assert.equal(chooseContact([result("A", 0.9), result("B", 0.85)]).kind, "several");
    assert.equal(chooseContact([result("A", 0.95), result("B", 0.64)]).kind, "one");
    const none = chooseContact([result("A", 0.4)]);
    assert.equal(none.kind, "none");
    assert.equal(none.kind === "none" && none.nearMisses.length, 1);
    assert.equal(chooseContact([]).kind, "none");
  });
});

describe("send_at (schedule_message): an exact moment, strictly", () => {
  test("accepts a date-time with an offset; refuses a date alone, no offset, impossible dates", () => {
    assert.equal(parseSendAt("2025-03-01T09:00:00-08:00").toISOString(), "2025-03-01T17:00:00.000Z");
    assert.equal(parseSendAt(" 2025-03-01T17:00Z ").toISOString(), "2025-03-01T17:00:00.000Z");
    for (const bad of [
      "2025-03-01",
      "2025-03-01T09:00",
      "2025-02-30T09:00Z",
      "2025-03-01T24:00Z",
      "tomorrow",
    ]) {
      assert.throws(() => parseSendAt(bad), /send_at ".*" (is not|has)/, bad);
    }
  });
});
