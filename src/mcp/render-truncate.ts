// Caps on other people's text. A group name, a contact name or a message can be megabytes long (nothing in
// chat.db stops it); repeated on every line it would turn a page of messages into megabytes the model pays
// for. Long fields are cut visibly ("… [truncated, 1.2 MB]"), never silently.

/** The most of one field the model-facing rendering shows. */
export const TEXT_CAPS = {
  /** A message's text in a page of messages. */
  messageText: 2000,
  /** A message's text when one message is asked for by id (message_id): the whole of a long paste. */
  singleMessageText: 100_000,
  /** A person's, group's or file's name; a reaction's emoji. */
  name: 80,
} as const;

/** The most of a message's text in `format: "json"` results: full text for programs, but bounded. */
export const JSON_TEXT_CAP = 100_000;
/** The most of any other string in `format: "json"` results (names, file names, paths). */
export const JSON_FIELD_CAP = 2000;

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** The marker a cut field ends with; `hint` says how to get the rest, when there is a way. */
export function truncationMarker(fullText: string, hint?: string): string {
  const size = formatBytes(Buffer.byteLength(fullText, "utf8"));
  return `… [truncated, ${size}${hint ? `; ${hint}` : ""}]`;
}

/**
 * `text` when it has at most `max` characters; else its first `max` characters (never half of a surrogate
 * pair) and a marker with the size of the whole, e.g. "aaaa… [truncated, 1.2 MB]".
 */
export function capText(text: string, max: number, hint?: string): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max);
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}${truncationMarker(text, hint)}`;
}

/** Whether capText(text, max) would cut it. */
export function isOverCap(text: string | null | undefined, max: number): boolean {
  return typeof text === "string" && text.length > max;
}
