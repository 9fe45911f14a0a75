// Child process for test/util/dates.test.ts: parses date arguments in its own TZ (set by the parent) with
// the default time zone, the way the server does on a user's Mac, and prints the results as JSON.
import { parseDateArgument, parseDateWindow, resolveTimeZone, timeZoneNote } from "../../src/util/dates.js";

const zone = resolveTimeZone();
const inputs = JSON.parse(process.argv[2] ?? "[]") as [string, "start" | "end"][];
const results = inputs.map(([value, bound]) => {
  try {
    return parseDateArgument(value, bound, zone).toISOString();
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
});
const oneDay = parseDateWindow({ start_date: "2025-03-09", end_date: "2025-03-09" }, zone);
process.stdout.write(
  JSON.stringify({
    zone,
    results,
    oneDay: [oneDay.start?.toISOString(), oneDay.end?.toISOString()],
    note: timeZoneNote(zone, [new Date("2025-01-15T12:00:00Z")]),
  }),
);
