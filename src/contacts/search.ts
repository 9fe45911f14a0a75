// Typo-tolerant name matching for contact search. Scores are 0..1: exact > prefix > fuzzy.
//
// Hand-written rather than a library (e.g. fuse.js) because we need fixed tiers (an exact name must beat
// a prefix, which must beat a typo) and a transposition ("smtih") to count as one edit; Bitap-based
// scores mix those together. The metric is the optimal-string-alignment distance message search uses.
import { boundedEditDistance } from "../util/edit-distance.js";

/** Lower-case, accents removed, whitespace collapsed: "  José  Núñez" → "jose nunez". */
export function foldText(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/\s+/g, " ").trim();
}

/** Typos tolerated for a query word of this length: none for 1–2 letters, 1 up to 5, then 2. */
function allowedEdits(length: number): number {
  if (length <= 2) return 0;
  return length <= 5 ? 1 : 2;
}

/** How well one folded query word matches one folded word: 0 (no match) .. 1 (identical). */
function scoreWord(query: string, word: string): number {
  if (word === query) return 1;
  if (word.startsWith(query)) return 0.8 + 0.1 * (query.length / word.length);
  const allowed = allowedEdits(query.length);
  if (allowed === 0) return 0;
  // Exact up to `allowed`; anything above it is out of range either way.
  const whole = boundedEditDistance(query, word, allowed);
  let best = whole <= allowed ? 1 - whole / Math.max(query.length, word.length) : 0;
  // A typo inside a prefix ("smtih" for "smithers"); from 4 letters only, as 3 letters with a typo
  // would match a large share of all names.
  if (query.length >= 4 && word.length > query.length) {
    const prefix = boundedEditDistance(query, word.slice(0, query.length), allowed);
    if (prefix <= allowed) best = Math.max(best, 0.9 * (1 - prefix / query.length));
  }
  return best === 0 ? 0 : 0.3 + 0.4 * best;
}

/**
 * Score of a (folded) query against a (folded) field value: 1 exact, 0.85–0.95 prefix of the value,
 * 0.8–0.9 prefix of a word in it, 0.3–0.7 typo-tolerant; multi-word queries need every word to match
 * some word of the value and score at most 0.95. 0 when it does not match.
 */
export function searchScore(query: string, value: string): number {
  if (query === "" || value === "") return 0;
  if (value === query) return 1;
  if (value.startsWith(query)) return 0.85 + 0.1 * (query.length / value.length);
  const words = value.split(" ");
  const queryWords = query.split(" ");
  let total = 0;
  for (const queryWord of queryWords) {
    let best = 0;
    for (const word of words) best = Math.max(best, scoreWord(queryWord, word));
    if (best === 0) return 0;
    total += best;
  }
  return Math.min(0.95, total / queryWords.length);
}
