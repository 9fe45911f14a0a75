// Dates as tools accept them: the one vocabulary of util/dates.ts (start_date / end_date / timezone), and
// send_at, which must name an exact moment.
import { DateInputError, parseDateArgument } from "../../util/dates.js";

// send_at: a date and a time with an explicit offset. "9 am" alone means nothing to a server that may run in
// another zone than the person asking (remote mode).
const WITH_TIME_AND_OFFSET = /^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*(?:Z|[+-]\d{2}(?::?\d{2})?)\s*$/i;

/** schedule_message's send_at → the instant; refused unless it is a real date and time with an offset. */
export function parseSendAt(value: string): Date {
  if (!WITH_TIME_AND_OFFSET.test(value)) {
    throw new DateInputError(
      `send_at "${value}" is not an ISO 8601 date and time with a time-zone offset, such as ` +
        "2025-03-01T09:00:00-08:00 or 2025-03-01T17:00:00Z.",
    );
  }
  // The zone is unused: the offset decides. The strict parser refuses 2025-02-30T09:00Z and 25:00.
  return parseDateArgument(value, "start", "UTC", "send_at");
}
