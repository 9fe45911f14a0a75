// Reading what a model was handed: where the <untrusted-message-content> fences are, and what lies outside
// them. The open tag may carry attributes; the close tag is the one literal a hostile text must not forge.
const FENCE_OPEN = /<untrusted-message-content\b[^>]*>/g;
export const FENCE_CLOSE = "</untrusted-message-content>";

export interface Fences {
  /** Text inside each fence, in order. */
  inside: string[];
  /** Everything outside the fences, joined. */
  outside: string;
  opens: number;
  /** Occurrences of the literal closing tag anywhere in the text. */
  closes: number;
  /** A fence opened but never closed. */
  unterminated: boolean;
}

export function readFences(text: string): Fences {
  const inside: string[] = [];
  let outside = "";
  let at = 0;
  let opens = 0;
  let unterminated = false;
  for (const open of text.matchAll(FENCE_OPEN)) {
    if (open.index < at) continue; // an open tag quoted inside a fence is content
    outside += text.slice(at, open.index);
    opens++;
    const start = open.index + open[0].length;
    const end = text.indexOf(FENCE_CLOSE, start);
    if (end < 0) {
      inside.push(text.slice(start));
      unterminated = true;
      at = text.length;
      break;
    }
    inside.push(text.slice(start, end));
    at = end + FENCE_CLOSE.length;
  }
  outside += text.slice(at);
  return { inside, outside, opens, closes: text.split(FENCE_CLOSE).length - 1, unterminated };
}
