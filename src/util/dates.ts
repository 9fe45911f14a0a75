import { setWithin } from "./bounded-map.js";
import { UserFacingError } from "./user-facing-error.js";
// The one date vocabulary of the tools: how `start_date`, `end_date` and `timezone` arguments are read, and
// how times are written back. Hand-written because it is small and must be exact: JavaScript's own `Date`
// parser reads a date alone as UTC midnight, rolls 2025-02-30 over into March and takes "1" for 2001, and
// Intl has no "local wall time in zone Z → instant" conversion (Temporal is not in Node 20).
//
// Rules (the tools' descriptions quote `DATE_ARGUMENT_HELP`):
// - `YYYY-MM-DD` alone is that calendar day in the time zone: as a start it means the first moment of the
//   day, as an end the last (end_date is inclusive, so start = end = one day is a one-day window).
// - `YYYY-MM-DDTHH:MM[:SS[.fff]]` without an offset is wall-clock time in the time zone.
// - With `Z` or an offset (`+02:00`, `-0800`) it is that exact instant, whatever the time zone.
// - Anything else, and impossible dates or times (2025-02-30, 25:00), is refused with a clear message.

/** Raised for a date or time zone argument that cannot be used; the message is meant for the user. */
export class DateInputError extends UserFacingError {
  override name = "DateInputError";
}

export const DATE_ARGUMENT_HELP =
  "a calendar day (2025-03-01, the whole day in the time zone) or an ISO 8601 date-time " +
  "(2025-03-01T14:30, local to the time zone; 2025-03-01T14:30:00-08:00 or …Z, exact)";

const DATE_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** A cached formatter giving the wall-clock fields of an instant in `timeZone`. */
function wallClock(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    if (formatters.size < 64) formatters.set(timeZone, f);
  }
  return f;
}

/** `name` if this system knows it as a time zone, spelled as given (ICU renames some: Kolkata → Calcutta). */
function knownZone(name: string): string | null {
  try {
    const resolved = new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
    return resolved.toLowerCase() === name.toLowerCase() ? resolved : name;
  } catch {
    return null;
  }
}

let systemZone: { tz: string | undefined; zone: string } | undefined;

/** The process's own time zone (from TZ, else the system's), as an IANA name. */
export function systemTimeZone(): string {
  // Asked for every result: remembered until TZ changes (tests change it; a Mac's server does not).
  if (systemZone?.tz !== process.env.TZ) systemZone = undefined;
  if (!systemZone) {
    const fromEnv = process.env.TZ?.replace(/^:/, "");
    const zone = (fromEnv && knownZone(fromEnv)) || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    systemZone = { tz: process.env.TZ, zone };
  }
  return systemZone.zone;
}

/**
 * The time zone to read and write dates in: `requested` when given (an IANA name such as Europe/Paris,
 * checked), else the Mac's own. Returns the canonical spelling Intl uses.
 */
export function resolveTimeZone(requested?: string | null): string {
  if (requested === undefined || requested === null || requested.trim() === "") return systemTimeZone();
  const zone = knownZone(requested.trim());
  if (zone === null) {
    throw new DateInputError(
      `timezone "${requested}" is not a time zone this system knows: use an IANA name such as ` +
        "America/Los_Angeles, Europe/Paris or UTC.",
    );
  }
  return zone;
}

/** The zone's offset at `ms` in whole seconds, as Intl applies it (seconds: local mean times are not whole minutes). */
function intlOffsetSeconds(ms: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of wallClock(timeZone).formatToParts(new Date(ms))) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  const wallAsUtc = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  // Intl drops milliseconds; compare whole seconds.
  return (wallAsUtc - Math.floor(ms / 1000) * 1000) / 1000;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/**
 * Where offsets are remembered: years 1900–9999, whose wall-clock fields Intl writes as plain digits (Date.UTC
 * also reads years 0–99 as 19xx, which the slow path keeps doing for the rare instant outside).
 */
const CACHED_FROM = Date.UTC(1900, 0, 2);
const CACHED_UNTIL = Date.UTC(9999, 11, 30);
/** Days or hours remembered per zone (about 1 MB each; decades of days), and zones remembered. */
const MAX_CACHED_BLOCKS = 20_000;
const MAX_CACHED_ZONES = 16;
/**
 * Per zone, per UTC day and per UTC hour: the offset in seconds when it is the same all day (all hour), NaN
 * when it changes within it.
 */
const dayOffsets = new Map<string, Map<number, number>>();
const hourOffsets = new Map<string, Map<number, number>>();

/**
 * The zone's offset at `ms` in seconds. Formatting with Intl costs about 10 µs and a page of messages asks
 * several times per message, so each UTC day is asked about once: its first and last second agree unless a
 * transition falls inside it (a zone's offset changes at most once a day: transitions are weeks apart at the
 * least), and then each hour of that day is asked about the same way, and each instant of the hour that holds
 * the transition on its own. A page of messages spread over hours of one day costs two look-ups, not two per
 * hour: about 7% of reading a page for the first time (callgrind).
 */
function offsetSeconds(ms: number, timeZone: string): number {
  if (!(ms >= CACHED_FROM && ms < CACHED_UNTIL)) return intlOffsetSeconds(ms, timeZone);
  const day = blockOffset(dayOffsets, timeZone, DAY_MS, ms);
  if (!Number.isNaN(day)) return day;
  const hour = blockOffset(hourOffsets, timeZone, HOUR_MS, ms);
  return Number.isNaN(hour) ? intlOffsetSeconds(ms, timeZone) : hour;
}

/** The offset all through the `size`-long UTC block holding `ms`, NaN when it changes within it (remembered). */
function blockOffset(
  cache: Map<string, Map<number, number>>,
  timeZone: string,
  size: number,
  ms: number,
): number {
  let blocks = cache.get(timeZone);
  if (!blocks) {
    blocks = setWithin(cache, MAX_CACHED_ZONES, timeZone, new Map());
  }
  const block = Math.floor(ms / size);
  let offset = blocks.get(block);
  if (offset === undefined) {
    const first = intlOffsetSeconds(block * size, timeZone);
    offset = first === intlOffsetSeconds(block * size + size - 1000, timeZone) ? first : Number.NaN;
    setWithin(blocks, MAX_CACHED_BLOCKS, block, offset);
  }
  return offset;
}

/** Offset of `timeZone` from UTC at instant `ms`, in minutes (e.g. -480 for UTC−08:00). */
export function utcOffsetMinutes(ms: number, timeZone: string): number {
  return Math.round(offsetSeconds(ms, timeZone) / 60);
}

/**
 * The instant a wall-clock time (given as if it were UTC, `wallMs`) names in `timeZone`. In a DST gap (the
 * clocks jump over it) the first moment after the gap; in an overlap (the hour happens twice) the first one.
 */
export function wallTimeToInstant(wallMs: number, timeZone: string): Date {
  const candidates = new Set<number>();
  // The two offsets around the wall time cover every real zone (transitions are far more than a day apart).
  for (const probe of [wallMs - 86_400_000, wallMs, wallMs + 86_400_000]) {
    candidates.add(wallMs - utcOffsetMinutes(probe, timeZone) * 60_000);
  }
  const valid = [...candidates].filter((t) => t + utcOffsetMinutes(t, timeZone) * 60_000 === wallMs);
  if (valid.length > 0) return new Date(Math.min(...valid));
  // No instant shows this wall time: it falls in a gap. The larger candidate lands just after the gap.
  return new Date(Math.max(...candidates));
}

export type DateBound = "start" | "end";

/**
 * One `start_date` / `end_date` argument → an instant. A date alone is the start of that day in `timeZone`
 * (for "start") or the start of the next day (for "end": the window's exclusive end, so the day is included).
 * A date-time is the instant itself; as an "end" it is included too (the window ends 1 ms after it).
 */
export function parseDateArgument(value: string, bound: DateBound, timeZone: string, what?: string): Date {
  const name = what ?? `${bound}_date`;
  const bad = (why: string) => new DateInputError(`${name} "${value}" ${why}: give ${DATE_ARGUMENT_HELP}.`);
  if (typeof value !== "string") throw bad("is not text");
  const match = DATE_PATTERN.exec(value.trim());
  if (!match) throw bad("is not a date");
  const [, y, mo, d, h, mi, s, fraction, offset] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(s ?? 0);
  const millis = fraction ? Number(fraction.slice(0, 3).padEnd(3, "0")) : 0;
  const calendar = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC maps years 0–99 to 1900–1999; set the year again so 0099-01-01 stays in year 99.
  calendar.setUTCFullYear(year, month - 1, day);
  if (month < 1 || month > 12 || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) {
    throw bad("is not a real calendar date");
  }
  if (hour > 23 || minute > 59 || second > 59) throw bad("is not a real time of day");
  if (offset !== undefined && !/^z$/i.test(offset)) {
    const digits = offset.slice(1).replace(":", "");
    const offsetHours = Number(digits.slice(0, 2));
    const offsetMinutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (offsetHours > 14 || offsetMinutes > 59) throw bad("has an impossible UTC offset");
  }
  const wall = calendar.getTime() + ((hour * 60 + minute) * 60 + second) * 1000 + millis;
  const dateOnly = h === undefined;
  let instant: number;
  if (dateOnly) {
    const dayStart = bound === "end" ? wall + 86_400_000 : wall;
    instant = wallTimeToInstant(dayStart, timeZone).getTime();
  } else if (offset === undefined) {
    instant = wallTimeToInstant(wall, timeZone).getTime();
  } else if (/^z$/i.test(offset)) {
    instant = wall;
  } else {
    const sign = offset.startsWith("-") ? -1 : 1;
    const digits = offset.slice(1).replace(":", "");
    const minutes = Number(digits.slice(0, 2)) * 60 + (digits.length > 2 ? Number(digits.slice(2)) : 0);
    instant = wall - sign * minutes * 60_000;
  }
  if (!dateOnly && bound === "end") instant += 1;
  return new Date(instant);
}

/** A time window: `start` inclusive, `end` exclusive; either may be open. */
export interface DateWindow {
  start?: Date;
  end?: Date;
  /** The window in the caller's words and zone, e.g. "from 2025-03-01 to 2025-03-02" ("" when open). */
  description: string;
}

/**
 * `start_date` / `end_date` → a window in `timeZone`. Empty strings count as absent. Refuses an end before
 * the start; start = end (two equal days) is the whole day.
 */
export function parseDateWindow(
  args: { start_date?: string | undefined; end_date?: string | undefined },
  timeZone: string,
): DateWindow {
  const given = (v: string | undefined): v is string => typeof v === "string" && v.trim() !== "";
  const start = given(args.start_date) ? parseDateArgument(args.start_date, "start", timeZone) : undefined;
  const end = given(args.end_date) ? parseDateArgument(args.end_date, "end", timeZone) : undefined;
  if (start && end && end.getTime() <= start.getTime()) {
    throw new DateInputError(
      `end_date "${args.end_date}" is before start_date "${args.start_date}": the window would be empty.`,
    );
  }
  const parts: string[] = [];
  if (start) parts.push(`from ${args.start_date?.trim()}`);
  if (end) parts.push(`${start ? "to" : "up to"} ${args.end_date?.trim()}`);
  return { start, end, description: parts.join(" ") };
}

function twoDigits(n: number): string {
  return String(n).padStart(2, "0");
}

/** "+05:30", "−08:00" (with a real minus sign, as people write it) for an offset in minutes. */
function offsetText(minutes: number, minusSign: string): string {
  const sign = minutes < 0 ? minusSign : "+";
  const abs = Math.abs(minutes);
  return `${sign}${twoDigits(Math.floor(abs / 60))}:${twoDigits(abs % 60)}`;
}

interface WallFields {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
}

/** The wall-clock fields of an instant in the zone, written as Intl writes them ("2025", "03", "01", "14", …). */
function wallFields(date: Date, timeZone: string): WallFields {
  const ms = date.getTime();
  if (ms >= CACHED_FROM && ms < CACHED_UNTIL) {
    const wall = new Date(ms + offsetSeconds(ms, timeZone) * 1000);
    return {
      year: String(wall.getUTCFullYear()),
      month: twoDigits(wall.getUTCMonth() + 1),
      day: twoDigits(wall.getUTCDate()),
      hour: twoDigits(wall.getUTCHours()),
      minute: twoDigits(wall.getUTCMinutes()),
      second: twoDigits(wall.getUTCSeconds()),
    };
  }
  const parts: Record<string, string> = {};
  for (const p of wallClock(timeZone).formatToParts(date)) parts[p.type] = p.value;
  return parts as unknown as WallFields;
}

/**
 * isoInZone's texts by instant, for the zone written in last (a server writes in one). A page's dates are
 * written at each read, and an assistant reads the same newest messages again and again.
 */
let isoTexts = { timeZone: "", byInstant: new Map<number, string>() };

/** ISO 8601 with the zone's offset at that instant, e.g. `2025-03-01T14:05:00-08:00` (structured output). */
export function isoInZone(date: Date, timeZone: string): string {
  const instant = date.getTime();
  if (isoTexts.timeZone !== timeZone) isoTexts = { timeZone, byInstant: new Map() };
  const known = isoTexts.byInstant.get(instant);
  if (known !== undefined) return known;
  const p = wallFields(date, timeZone);
  const ms = instant % 1000;
  const fraction = ms === 0 ? "" : `.${String((ms + 1000) % 1000).padStart(3, "0")}`;
  const offset = offsetText(utcOffsetMinutes(instant, timeZone), "-");
  const text = `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${fraction}${offset}`;
  setWithin(isoTexts.byInstant, MAX_CACHED_INSTANTS, instant, text);
  // The lines built from a view read its dates back (instantOf): hand them the instant, so that V8's date
  // parser does not run for each date of a page read for the first time. Only where Date.parse would read
  // the text back exactly: four-digit years, and an offset of whole minutes (not 1900 Amsterdam's +00:19:32).
  if (instant >= CACHED_FROM && instant < CACHED_UNTIL && offsetSeconds(instant, timeZone) % 60 === 0)
    setWithin(instants, MAX_CACHED_INSTANTS, text, instant);
  return text;
}

/** "2025-03-01 14:05": a compact wall-clock time in the zone, for lines a model reads. */
export function shortTimeInZone(date: Date, timeZone: string): string {
  const { day, time } = wallDayTime(date, timeZone);
  return `${day} ${time}`;
}

/** Instants of date texts already read by `instantOf`, at most MAX_CACHED_INSTANTS. */
const instants = new Map<string, number>();
const MAX_CACHED_INSTANTS = 4096;

/**
 * `Date.parse(text)` (so `new Date(instantOf(text))` is `new Date(text)`), remembered: a page's lines read each
 * message's ISO date more than once (its day and time, the zone note, which message of mine is the newest) and
 * its receipts', and V8's date parser was about 3% of a page's instructions.
 */
export function instantOf(text: string): number {
  return instants.get(text) ?? setWithin(instants, MAX_CACHED_INSTANTS, text, Date.parse(text));
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

/** The calendar day ("2025-03-01"), its weekday ("Sat") and the time ("14:05") of an instant in the zone. */
export function wallDayTime(date: Date, timeZone: string): { day: string; weekday: string; time: string } {
  const p = wallFields(date, timeZone);
  const weekday =
    WEEKDAYS[new Date(Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day))).getUTCDay()];
  return { day: `${p.year}-${p.month}-${p.day}`, weekday: weekday ?? "", time: `${p.hour}:${p.minute}` };
}

/**
 * "Times in America/Los_Angeles, UTC−08:00.": said once per result. When the times shown straddle a DST
 * change, both offsets are named ("UTC−08:00/−07:00"). `dates` are the times shown; none → now.
 */
export function timeZoneNote(timeZone: string, dates: readonly Date[] = []): string {
  const instants = dates.length > 0 ? dates : [new Date()];
  const offsets = [...new Set(instants.map((d) => utcOffsetMinutes(d.getTime(), timeZone)))].sort(
    (a, b) => a - b,
  );
  if (/^(Etc\/)?(UTC|GMT|Universal|Zulu)$/i.test(timeZone) && offsets.length === 1 && offsets[0] === 0) {
    return "Times in UTC.";
  }
  return `Times in ${timeZone}, UTC${offsets.map((o) => offsetText(o, "\u2212")).join("/")}.`;
}
