import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  classifyHandle,
  defaultRegion,
  handleKey,
  normalizeEmail,
  normalizePhone,
  resolveDefaultRegion,
} from "../../src/contacts/index.js";

test("the usual ways of writing a US number all give one E.164 number (555 numbers included)", () => {
  const variants = [
    "+1 (555) 123-4567",
    "5551234567",
    "(555) 123-4567",
    "1-555-123-4567",
    "+15551234567",
    "555.123.4567",
  ];
  for (const variant of variants) assert.equal(normalizePhone(variant, "US"), "+15551234567", variant);
  for (const variant of variants) assert.equal(handleKey(variant, "US"), "+15551234567", variant);
});

test("numbers in other regions and international form meet", () => {
  assert.equal(normalizePhone("020 7946 0958", "GB"), "+442079460958");
  assert.equal(normalizePhone("+44 20 7946 0958", "US"), "+442079460958");
  assert.equal(normalizePhone("070-000 00 01", "SE"), normalizePhone("+46 70 000 00 01", "US"));
});

test("short codes and short local numbers stay digits", () => {
  assert.equal(normalizePhone("32665", "US"), "32665");
  assert.equal(handleKey("32665", "US"), "32665");
  assert.equal(normalizePhone("262-966", "US"), "262966");
  assert.equal(handleKey("p:32665", "US"), "32665");
});

test("numbers that cannot be E.164 keep their digits; text that is not a number gives null", () => {
  assert.equal(normalizePhone("555-0100", "US"), "5550100");
  assert.equal(normalizePhone("+1 555 0100", "US"), "+15550100");
  assert.equal(normalizePhone("+1 555 123 4567 ext. 89", "US"), "+15551234567");
  assert.equal(normalizePhone("1-800-FLOWERS", "US"), null);
  assert.equal(normalizePhone("   ", "US"), null);
  assert.equal(normalizePhone("(-)", "US"), null);
});

test("emails compare case-insensitively, with handle prefixes removed", () => {
  assert.equal(normalizeEmail("  Jane.Doe@Example.COM "), "jane.doe@example.com");
  assert.equal(handleKey("e:Jane.Doe@Example.com"), "jane.doe@example.com");
  assert.equal(handleKey("mailto:JANE.DOE@example.com"), "jane.doe@example.com");
  assert.equal(handleKey("jane.doe@example.com"), "jane.doe@example.com");
});

test("handle prefixes are stripped from phone handles", () => {
  assert.equal(handleKey("tel:+1-555-123-4567", "US"), "+15551234567");
  assert.equal(handleKey("p:+15551234567", "US"), "+15551234567");
  assert.equal(handleKey("TEL: (555) 123-4567", "US"), "+15551234567");
});

test("ids that are neither phone nor email are kept as lower-cased text", () => {
  assert.equal(handleKey("chat123456789", "US"), "chat123456789");
  assert.equal(handleKey("urn:biz:ABC-123", "US"), "urn:biz:abc-123");
  assert.equal(handleKey("", "US"), "");
});

test("classifyHandle tells emails and phone numbers from names", () => {
  assert.equal(classifyHandle("jane@example.com"), "email");
  assert.equal(classifyHandle("+1 (555) 123-4567"), "phone");
  assert.equal(classifyHandle("555"), "phone");
  assert.equal(classifyHandle("John Smith"), "other");
  assert.equal(classifyHandle("jon"), "other");
  assert.equal(classifyHandle("42"), "other");
});

test("default region: MAC_MESSAGES_REGION, else the locale's region, else US", () => {
  assert.equal(resolveDefaultRegion("gb", "en-US"), "GB");
  assert.equal(resolveDefaultRegion(" de ", undefined), "DE");
  assert.equal(resolveDefaultRegion("ZZ", "fr-FR"), "FR");
  assert.equal(resolveDefaultRegion(undefined, "de"), "DE");
  assert.equal(resolveDefaultRegion(undefined, "en-GB"), "GB");
  assert.equal(resolveDefaultRegion(undefined, "not a locale!"), "US");
  assert.equal(resolveDefaultRegion(undefined, undefined), "US");
});

test("the process default region follows MAC_MESSAGES_REGION", () => {
  const saved = process.env.MAC_MESSAGES_REGION;
  try {
    process.env.MAC_MESSAGES_REGION = "GB";
    assert.equal(defaultRegion(), "GB");
    assert.equal(normalizePhone("020 7946 0958"), "+442079460958");
    process.env.MAC_MESSAGES_REGION = "US";
    assert.equal(defaultRegion(), "US");
    assert.equal(normalizePhone("(555) 123-4567"), "+15551234567");
  } finally {
    if (saved === undefined) delete process.env.MAC_MESSAGES_REGION;
    else process.env.MAC_MESSAGES_REGION = saved;
  }
});

const digit = fc.integer({ min: 0, max: 9 }).map(String);
const digits = (n: number) => fc.array(digit, { minLength: n, maxLength: n }).map((d) => d.join(""));
const usNumber = fc.record({
  area: fc.tuple(fc.integer({ min: 2, max: 9 }), digits(2)).map(([a, b]) => `${a}${b}`),
  exchange: digits(3),
  line: digits(4),
});

test("property: any formatting of the same US number gives one key", () => {
  fc.assert(
    fc.property(
      usNumber,
      fc.constantFrom("", "+1", "1", "+1 ", "1-", "1 ", "+1-"),
      fc.constantFrom("", " ", "-", ".", "  "),
      fc.boolean(),
      fc.constantFrom("", "tel:", "p:", " "),
      ({ area, exchange, line }, countryPrefix, separator, parens, handlePrefix) => {
        const areaPart = parens ? `(${area})` : area;
        const formatted = `${handlePrefix}${countryPrefix}${areaPart}${parens ? " " : separator}${exchange}${separator}${line}`;
        assert.equal(handleKey(formatted, "US"), `+1${area}${exchange}${line}`, formatted);
      },
    ),
    { numRuns: 500 },
  );
});

test("property: never throws on arbitrary strings, and keys are stable", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 40 }), (text) => {
      const phone = normalizePhone(text, "US");
      assert.ok(phone === null || /^\+?\d+$/.test(phone));
      const key = handleKey(text, "US");
      assert.equal(typeof key, "string");
      assert.equal(handleKey(key, "US"), key, `not idempotent for ${JSON.stringify(text)}`);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.stringMatching(/^[+(]?[\d ().-]{0,20}$/), (text) => {
      const key = handleKey(text, "US");
      assert.equal(handleKey(key, "US"), key, `not idempotent for ${JSON.stringify(text)}`);
    }),
    { numRuns: 1000 },
  );
});
