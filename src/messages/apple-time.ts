// Apple "Cocoa" time: seconds (or, in chat.db since macOS 10.13, nanoseconds) since 2001-01-01T00:00:00Z.

/** 2001-01-01T00:00:00Z in Unix milliseconds. */
export const APPLE_EPOCH_MS = 978_307_200_000;

/**
 * chat.db values at or above this are nanoseconds; smaller ones are seconds (rows written before High Sierra).
 * 1e11 seconds is year 5170, while 1e11 nanoseconds is only 100 s after the epoch, so the ranges never meet in
 * real data.
 */
const NANOS_THRESHOLD = 1e11;

function dateOrNull(ms: number): Date | null {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** chat.db `message.date`, `date_read`, `date_delivered`, `date_edited`, … → Date. 0, null and garbage → null. */
export function appleNanosToDate(v: number | bigint | null | undefined): Date | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") {
    if (v === 0n) return null;
    const magnitude = v < 0n ? -v : v;
    if (magnitude < BigInt(NANOS_THRESHOLD)) return appleSecondsToDate(Number(v));
    // Round half up to whole milliseconds in bigint (exact), matching the number path below.
    const shifted = v + 500_000n;
    const q = shifted / 1_000_000n;
    const floored = shifted < 0n && q * 1_000_000n !== shifted ? q - 1n : q;
    return dateOrNull(APPLE_EPOCH_MS + Number(floored));
  }
  if (typeof v !== "number" || !Number.isFinite(v) || v === 0) return null;
  if (Math.abs(v) < NANOS_THRESHOLD) return appleSecondsToDate(v);
  // Rounded, not floored: above 2^53 a JS number is only within ~128 ns of the stored integer, and may fall
  // just below a whole millisecond.
  return dateOrNull(APPLE_EPOCH_MS + Math.round(v / 1e6));
}

/** Seconds since 2001 (edit history `d`, Contacts dates) → Date. 0 (Apple's "unset"), null and garbage → null. */
export function appleSecondsToDate(v: number | bigint | null | undefined): Date | null {
  if (v === null || v === undefined) return null;
  const seconds = typeof v === "bigint" ? Number(v) : v;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds === 0) return null;
  return dateOrNull(APPLE_EPOCH_MS + Math.round(seconds * 1000));
}

function checkDate(d: Date, fn: string): number {
  const ms = d instanceof Date ? d.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new RangeError(`${fn}: expected a valid Date`);
  return ms;
}

/** Date → nanoseconds since 2001 as chat.db stores them (an integer; above 2^53 it is exact to ~128 ns). */
export function dateToAppleNanos(d: Date): number {
  return (checkDate(d, "dateToAppleNanos") - APPLE_EPOCH_MS) * 1e6;
}

/** Date → exact nanoseconds since 2001 as a bigint, for binding to SQLite INTEGER columns without rounding. */
export function dateToAppleNanosBigInt(d: Date): bigint {
  return BigInt(checkDate(d, "dateToAppleNanosBigInt") - APPLE_EPOCH_MS) * 1_000_000n;
}

/** Date → seconds since 2001 (fractional). */
export function dateToAppleSeconds(d: Date): number {
  return (checkDate(d, "dateToAppleSeconds") - APPLE_EPOCH_MS) / 1000;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? "";
  let f = formatters.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        timeZoneName: "longOffset",
      });
    } catch {
      throw new RangeError(`formatLocal: unknown time zone "${timeZone}"`);
    }
    if (formatters.size < 64) formatters.set(key, f);
  }
  return f;
}

/**
 * ISO 8601 in a time zone with its UTC offset, e.g. `2024-07-29T02:53:00+02:00` (milliseconds only when
 * non-zero). Default zone: the process's (TZ). Uses Intl, so DST and historical offsets follow the ICU database.
 */
export function formatLocal(d: Date, timeZone?: string): string {
  const ms = checkDate(d, "formatLocal");
  const parts: Record<string, string> = {};
  for (const p of formatterFor(timeZone).formatToParts(d)) parts[p.type] = p.value;
  // longOffset is "GMT" for UTC itself and "GMT+02:00" otherwise.
  const offset = (parts.timeZoneName ?? "GMT").replace(/^GMT/, "") || "+00:00";
  const millis = ((ms % 1000) + 1000) % 1000;
  const fraction = millis === 0 ? "" : `.${String(millis).padStart(3, "0")}`;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${fraction}${offset}`;
}
