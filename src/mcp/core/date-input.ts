// Dates as tools accept them, one parser per kind of argument.
import { ToolInputError } from "./tool-result.js";

/** ISO 8601 date or date-time → Date (undefined when left out); a ToolInputError that shows the expected form otherwise. */
export function parseDateInput(value: string | undefined, what: string): Date | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const date = new Date(value.trim());
  if (Number.isNaN(date.getTime())) {
    throw new ToolInputError(
      `${what} "${value}" is not a date: use ISO 8601 such as 2025-03-01 or 2025-03-01T14:00:00Z.`,
    );
  }
  return date;
}

// YYYY-MM-DD, or a date and time with an optional offset ("Z", "+02:00", "-0800").
const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * A strict ISO 8601 date or date-time. Without an offset it is local time on this Mac. Impossible dates
 * (2025-02-30) are refused rather than rolled over into the next month, as `new Date` would.
 */
export function parseIsoDate(value: string, what: string): Date {
  const trimmed = value.trim();
  const bad = (why: string) =>
    new ToolInputError(
      `${what} "${value}" ${why}: use ISO 8601 such as 2025-03-01, 2025-03-01T14:00:00Z or 2025-03-01T09:00:00-08:00.`,
    );
  const parts = ISO_DATE.exec(trimmed);
  if (!parts) throw bad("is not a date");
  const [, year, month, day, hour = "00", minute = "00", second = "00"] = parts;
  const calendar = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (
    calendar.getUTCMonth() !== Number(month) - 1 ||
    calendar.getUTCDate() !== Number(day) ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59
  ) {
    throw bad("is not a real date and time");
  }
  // A date alone would be read as UTC midnight by `new Date`; people mean midnight where they are.
  const date = new Date(parts[4] === undefined ? `${trimmed}T00:00:00` : trimmed.replace(" ", "T"));
  if (Number.isNaN(date.getTime())) throw bad("is not a date");
  return date;
}

// Date and time with an explicit offset: "9 am" means nothing to a server that may run in another zone.
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

export function parseSendAt(value: string): Date {
  const trimmed = value.trim();
  const date = ISO_WITH_OFFSET.test(trimmed) ? new Date(trimmed) : null;
  if (date === null || Number.isNaN(date.getTime())) {
    throw new ToolInputError(
      `send_at "${value}" is not an ISO 8601 date and time with a time-zone offset, such as ` +
        "2025-03-01T09:00:00-08:00 or 2025-03-01T17:00:00Z.",
    );
  }
  return date;
}
