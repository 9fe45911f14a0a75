// The fence around other people's words. Anything that came from other people (message text, contact and
// group names, file names) reaches the model inside an <untrusted-message-content> block, and nothing inside
// may look like the end of that block to a reader — not a closing tag in another case, with zero-width
// characters or combining marks between its letters, in full-width or mathematical letters, or spelled
// with look-alike letters from other scripts (Cyrillic "е" for "e", Greek "ο" for "o", …).
import { createRequire } from "node:module";

export const UNTRUSTED_TAG = "untrusted-message-content";
export const UNTRUSTED_OPEN = `<${UNTRUSTED_TAG}>`;
export const UNTRUSTED_CLOSE = `</${UNTRUSTED_TAG}>`;

/**
 * Unicode's confusables table (UTS #39: one code point → its prototype, e.g. Cyrillic "е" → "e", "‹" → "<"),
 * as kept by the `unhomoglyph` package. Its own function runs one 6,000-way regex over a whole string; we
 * need the mapping one character at a time (to point back at the original characters), so we read its table.
 */
let confusables: Map<string, string> | undefined;
// Read on first use (a 6,000-entry JSON file): start-up answers tools/list without fencing anything.
function confusable(ch: string): string | undefined {
  confusables ??= new Map<string, string>(
    Object.entries(createRequire(import.meta.url)("unhomoglyph/data.json") as Record<string, string>),
  );
  return confusables.get(ch);
}

/** The characters a fence tag is spelled with, after folding: its letters, "<", "/", and separators. */
const TAG_ALPHABET = new Set([..."untrusted-message-content", "<", "❬", "/", "_"]);
/** Characters a reader does not see, or sees as part of the letter before: they are skipped when matching. */
const INVISIBLE = /^[\p{Cf}\p{M}]$/u;

function skeleton(ch: string): string {
  return confusable(ch) ?? ch;
}

/**
 * What one character looks like for matching against the tag: a lower-case ASCII letter or symbol when it
 * can pass for one, "" when invisible, else itself. Several routes, because the table's prototypes are
 * case-specific (Cyrillic "т" maps to small-capital "ᴛ", its capital "Т" to "T"; "m" maps to "rn").
 * Exported for the test that derives BRACKET_UNITS from it.
 */
export function fold(ch: string): string {
  const known = FOLDED.get(ch);
  if (known !== undefined) return known;
  const folded = foldUncached(ch);
  if (FOLDED.size < MAX_FOLDED) FOLDED.set(ch, folded);
  return folded;
}

/** Memo of fold(): a text uses few distinct characters, and NFKC plus table look-ups per character add up. */
const FOLDED = new Map<string, string>();
const MAX_FOLDED = 20_000;

function foldUncached(ch: string): string {
  if (INVISIBLE.test(ch)) return "";
  // NFKC turns full-width, mathematical and circled letters (ｅ, 𝐞, ⓔ) and "﹤" into plain ones.
  const compatible = ch.normalize("NFKC");
  for (const candidate of [
    compatible.toLowerCase(),
    skeleton(compatible).toLowerCase(),
    skeleton(compatible.toUpperCase()).toLowerCase(),
    skeleton(compatible.toLowerCase()).toLowerCase(),
  ]) {
    if (TAG_ALPHABET.has(candidate)) return candidate;
  }
  return compatible.length === 1 ? compatible.toLowerCase() : ch;
}

// On the folded text: an opening bracket (or "&lt;"), an optional slash, the tag's three words with any
// spacing, dashes or underscores between them. Brackets that fold to "❬" are the angle-bracket look-alikes.
const SEPARATORS = "[\\s\\-_\\u2010-\\u2015\\u2212\\u30fc]*";
const FOLDED_TAG = new RegExp(
  `(<|❬|〈|&lt;|&#[0o]*6[0o];|&#x[0o]*3c;)\\s*(/?)\\s*untrusted${SEPARATORS}message${SEPARATORS}content`,
  "gi",
);
const FOLDED_TAG_ANYWHERE = new RegExp(FOLDED_TAG.source, "i");

/**
 * fold() of ASCII, the common case of a page's characters: almost every ASCII character folds to its own lower
 * case; `odd` matches those that do not ("0" can pass for "o"). fold() of an ASCII character is lower case.
 */
let asciiFolds: { table: string[]; odd: RegExp } | undefined;

function foldAscii(run: string): string {
  if (!asciiFolds) {
    const table = Array.from({ length: 128 }, (_, code) => fold(String.fromCharCode(code)));
    const odd = table.flatMap((f, code) => (f === String.fromCharCode(code).toLowerCase() ? [] : [code]));
    const pattern = odd.map((code) => `\\x${code.toString(16).padStart(2, "0")}`).join("");
    asciiFolds = { table, odd: new RegExp(pattern === "" ? "[^\\s\\S]" : `[${pattern}]`, "g") };
  }
  const { table, odd } = asciiFolds;
  return run.replace(odd, (ch) => table[ch.charCodeAt(0)] ?? ch).toLowerCase();
}

const NON_ASCII_RUN = /[\u0080-\uffff]+/g;

/**
 * The whole of `text` folded (what neutraliseDelimiters matches the tag against): runs of ASCII at once (one
 * character at a time cost ~30 ns each, 0.2 ms for a list_chats page), other characters one by one.
 */
function foldedText(text: string): string {
  let folded = "";
  let at = 0;
  for (const match of text.matchAll(NON_ASCII_RUN)) {
    folded += foldAscii(text.slice(at, match.index));
    for (const ch of match[0]) folded += fold(ch);
    at = match.index + match[0].length;
  }
  return folded + foldAscii(text.slice(at));
}

/**
 * Every character that fold() turns into the first character of a tag's opening (`<`, `❬`, `〈`, or the `&` of
 * "&lt;"): text without one of them cannot hold a tag, and most pages have none, emoji or not. Derived by
 * folding every code point (test/mcp/render-fence.test.ts holds this list to that): it holds common letters
 * too (Japanese "く" passes for "〈"), whose text takes the long way. The two outside the BMP (U+1D236,
 * U+21FE8) are listed by their high surrogate: the few hundred rare characters that share it take the long way.
 */
const BRACKET_UNITS = new Set([
  ..."&<\u02c2\u1438\u16b2\u2039\u2329\u276c\u276e\u27e8\u3008\u304f\u31db\ufe3f\ufe60\ufe64\uff06\uff1c",
  "\ud834",
  "\ud847",
]);
const ASCII_BRACKET = /[&<]/;
/** The code units at or above the first non-ASCII look-alike (U+02C2): few on a page, each looked up. */
const HIGH_UNIT = /[\u02c2-\uffff]/g;

/**
 * Whether `text` holds one of BRACKET_UNITS. Not one regular expression of them: V8 took about 30 µs to find
 * none in a page of 50 messages, this about 6 µs (one regular expression per page was the most of it).
 */
function mayHoldTag(text: string): boolean {
  if (ASCII_BRACKET.test(text)) return true;
  HIGH_UNIT.lastIndex = 0;
  for (let unit = HIGH_UNIT.exec(text); unit !== null; unit = HIGH_UNIT.exec(text))
    if (BRACKET_UNITS.has(unit[0])) return true;
  return false;
}

/**
 * Makes any look-alike of the fence tags inside third-party text harmless by swapping its opening bracket
 * for a square one ("[/untrusted-message-content>"); everything else (including "<3") is left as written.
 */
export function neutraliseDelimiters(text: string): string {
  if (!mayHoldTag(text)) return text;
  // One "&" in a page of messages gets here: fold it all once, and map positions back only on a match.
  if (!FOLDED_TAG_ANYWHERE.test(foldedText(text))) return text;
  // The folded text, and for each of its UTF-16 units the index of the original character it came from.
  let folded = "";
  const origin: number[] = [];
  let index = 0;
  for (const ch of text) {
    const f = fold(ch);
    folded += f;
    for (let i = 0; i < f.length; i++) origin.push(index);
    index += ch.length;
  }
  origin.push(text.length);
  const brackets: { start: number; end: number }[] = [];
  for (const match of folded.matchAll(FOLDED_TAG)) {
    const bracket = match[1] ?? "<";
    const start = origin[match.index] ?? 0;
    const last = origin[match.index + bracket.length - 1] ?? start;
    // The original bracket runs from its first character to the end of its last one.
    const end = last + ((text.codePointAt(last) ?? 0) > 0xffff ? 2 : 1);
    brackets.push({ start, end });
  }
  if (brackets.length === 0) return text;
  let out = "";
  let at = 0;
  for (const { start, end } of brackets) {
    out += `${text.slice(at, start)}[`;
    at = end;
  }
  return out + text.slice(at);
}

/** Fences third-party content so a model can tell it apart from instructions. */
export function wrapUntrusted(body: string): string {
  return `${UNTRUSTED_OPEN}\n${neutraliseDelimiters(body)}\n${UNTRUSTED_CLOSE}`;
}
