// The plain-words refusal of arguments a tool does not take. People (and models) coming from the Python
// mac-messages-mcp carry its argument names over; a silently ignored `chat_id` once meant "every chat", so
// unknown names are refused, and a known foreign name says which argument to use here instead.

/**
 * Argument names of the Python mac-messages-mcp (and common variants) → what to use here, in order of
 * preference: the first that the called tool takes is suggested, with the note when there is one.
 */
const FORMER_NAMES: Record<string, readonly { use: string; note?: string }[]> = {
  chat_id: [
    { use: "chat", note: "chat:<id> from list_chats, a chat guid or a group name" },
    { use: "recipient", note: "chat:<id> from list_chats" },
  ],
  group_chat: [{ use: "recipient", note: "a group is addressed as recipient chat:<id>; no flag is needed" }],
  search_term: [{ use: "query" }],
  message: [{ use: "text" }],
  name: [{ use: "query" }, { use: "first_name" }],
  threshold: [{ use: "mode", note: 'mode "fuzzy" tolerates typos; there is no threshold' }],
  hours: [{ use: "since_hours" }, { use: "start_date", note: "a day such as 2025-03-01, or a date-time" }],
  after: [{ use: "start_date" }],
  before: [{ use: "end_date" }],
  // search_messages' own names for its window before every tool took start_date / end_date.
  since: [{ use: "start_date", note: "a day such as 2025-03-01, or a date-time" }],
  until: [{ use: "end_date", note: "inclusive: the last day or moment to include" }],
  offset: [{ use: "cursor", note: "pass nextCursor of the previous page" }],
  order: [{ use: "cursor", note: "results come newest first; page with cursor" }],
  attachment_id: [{ use: "id" }],
  message_id: [{ use: "id" }],
  mime_type: [{ use: "mime_prefix", note: 'a type or its start, e.g. "image/"' }],
  contact: [{ use: "recipient" }, { use: "query" }],
  phone: [{ use: "recipient" }],
  phone_number: [{ use: "recipient" }, { use: "phone" }],
  email: [{ use: "recipient" }],
};

/** sinceRowid → since_rowid. */
function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

/** What to use instead of `key` in a tool that takes `accepted`, in words; undefined when nothing fits. */
export function suggestionFor(key: string, accepted: readonly string[]): string | undefined {
  const plain = snakeCase(key.trim());
  if (plain !== key && accepted.includes(plain)) return plain;
  for (const candidate of FORMER_NAMES[plain] ?? []) {
    if (accepted.includes(candidate.use)) {
      return candidate.note ? `${candidate.use} (${candidate.note})` : candidate.use;
    }
  }
  return undefined;
}

/** The refusal: which arguments are unknown, what to use instead where we know, and what the tool takes. */
export function unknownArgumentsMessage(
  tool: string,
  keys: readonly string[],
  accepted: readonly string[],
): string {
  const plural = keys.length === 1 ? "" : "s";
  const hints = keys.flatMap((key) => {
    const use = suggestionFor(key, accepted);
    return use ? [`instead of ${key}, use ${use}`] : [];
  });
  const takes = accepted.length === 0 ? "no arguments" : accepted.join(", ");
  return [
    `Unknown argument${plural} ${keys.join(", ")}: ${tool} does not take ${keys.length === 1 ? "it" : "them"}, so nothing was done.`,
    hints.length > 0 ? `Here, ${hints.join("; ")}.` : "",
    `${tool} takes: ${takes}.`,
  ]
    .filter((part) => part !== "")
    .join(" ");
}
