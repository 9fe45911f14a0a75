// How search decides that a message matches. Shared by the linear scan and the side index, so both
// give the same answers.
import { boundedEditDistance } from "../util/edit-distance.js";

export { boundedEditDistance };

import { attributedBodyText } from "./typedstream.js";

/** Lower-cases and folds compatibility forms (e.g. 𝖍𝖊𝖑𝖑𝖔 → hello) so search matches what people type. */
export function normalizeForSearch(text: string): string {
  return text.normalize("NFKC").toLowerCase();
}

/**
 * `message.text` as a string. SQLite columns hold any type: a damaged or hand-edited chat.db can have a number
 * or a blob there, which must read as text (or nothing), never reach string code as something else.
 */
export function textColumn(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString("utf8");
  return null;
}

/**
 * The normalised text search compares for a message: its non-empty `text`, else its decoded
 * `attributedBody` (`text` is often NULL since Ventura); null when it has neither.
 */
export function searchableText(text: unknown, attributedBody: unknown): string | null {
  const raw =
    textColumn(text) || attributedBodyText(attributedBody instanceof Uint8Array ? attributedBody : null);
  return raw ? normalizeForSearch(raw) : null;
}

/** Words as search sees them: runs of letters, digits and apostrophes. */
export function searchWords(normalized: string): string[] {
  return normalized.match(/[\p{L}\p{N}']+/gu) ?? [];
}

/** Typos allowed for a query word of this length: none for short words, where one edit changes the word. */
export function allowedEdits(word: string): number {
  const length = [...word].length;
  if (length >= 8) return 2;
  if (length >= 4) return 1;
  return 0;
}

export interface TextMatcher {
  mode: "substring" | "fuzzy";
  /** The normalised query. */
  needle: string;
  /** Normalised text of a message → does it match? */
  matches(normalizedText: string): boolean;
}

export function createTextMatcher(query: string, mode: "substring" | "fuzzy" = "substring"): TextMatcher {
  const needle = normalizeForSearch(query);
  if (mode === "substring") {
    return { mode, needle, matches: (text) => needle.length > 0 && text.includes(needle) };
  }
  const queryWords = searchWords(needle);
  return {
    mode,
    needle,
    matches(text) {
      if (queryWords.length === 0) return false;
      if (text.includes(needle)) return true;
      const words = searchWords(text);
      return queryWords.every((q) => {
        const max = allowedEdits(q);
        return words.some((w) => w === q || (max > 0 && boundedEditDistance(q, w, max) <= max));
      });
    },
  };
}
