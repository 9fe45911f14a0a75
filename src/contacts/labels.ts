// Contacts stores built-in labels as "_$!<Mobile>!$_" and custom labels verbatim.

const BUILT_IN = /^_\$!<(.+)>!\$_$/;

// Apple's internal names for built-in labels, and the words Contacts.app shows for them.
const builtInLabels: [internal: string, display: string][] = [
  ["Mobile", "mobile"],
  ["Home", "home"],
  ["Work", "work"],
  ["Main", "main"],
  ["HomeFAX", "home fax"],
  ["WorkFAX", "work fax"],
  ["OtherFAX", "other fax"],
  ["Pager", "pager"],
  ["Other", "other"],
  ["School", "school"],
];

/** Readable label for a stored one: "_$!<Mobile>!$_" → "mobile"; custom labels unchanged; blank → null. */
export function decodeLabel(stored: string | null | undefined): string | null {
  if (stored === null || stored === undefined || stored.trim() === "") return null;
  const inner = BUILT_IN.exec(stored)?.[1];
  if (inner === undefined) return stored;
  return builtInLabels.find(([internal]) => internal === inner)?.[1] ?? inner.toLowerCase();
}

/** Stored form of a label as Contacts.app writes it: "mobile" → "_$!<Mobile>!$_"; custom labels verbatim. */
export function encodeLabel(label: string | null | undefined): string | null {
  if (label === null || label === undefined || label.trim() === "") return null;
  if (BUILT_IN.test(label)) return label;
  const wanted = label.trim().toLowerCase();
  const builtIn = builtInLabels.find(
    ([internal, display]) => display === wanted || internal.toLowerCase() === wanted,
  );
  return builtIn ? `_$!<${builtIn[0]}>!$_` : label;
}
