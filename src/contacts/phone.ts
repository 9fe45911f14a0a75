// Normalisation of phone numbers, email addresses and Messages handle ids into comparable keys.
import { createRequire } from "node:module";
import type { CountryCode } from "libphonenumber-js";
import { setWithin } from "../util/bounded-map.js";

/**
 * libphonenumber-js, loaded on first use: its ES build is over a hundred modules (about a tenth of the
 * server's start-up), and the server answers tools/list without ever reading a phone number.
 */
let phoneLibrary: typeof import("libphonenumber-js") | undefined;
function libphonenumber(): typeof import("libphonenumber-js") {
  phoneLibrary ??= createRequire(import.meta.url)("libphonenumber-js") as typeof import("libphonenumber-js");
  return phoneLibrary;
}

export type { CountryCode };

const FALLBACK_REGION: CountryCode = "US";

/**
 * The region used for numbers typed without a country code: `MAC_MESSAGES_REGION` if it names a supported
 * region, else the region of `locale` (maximized, so "de" gives "DE"), else US. Pure, for testing.
 */
export function resolveDefaultRegion(envValue: string | undefined, locale: string | undefined): CountryCode {
  const fromEnv = envValue?.trim().toUpperCase();
  if (fromEnv && libphonenumber().isSupportedCountry(fromEnv)) return fromEnv;
  if (locale) {
    try {
      const region = new Intl.Locale(locale).maximize().region;
      if (region && libphonenumber().isSupportedCountry(region)) return region;
    } catch {
      // A malformed locale tag is not worth failing over: fall through to the default.
    }
  }
  return FALLBACK_REGION;
}

let cachedRegion: { env: string | undefined; region: CountryCode } | undefined;

/** The default region for this process (see resolveDefaultRegion); cached until the env var changes. */
export function defaultRegion(): CountryCode {
  const env = process.env.MAC_MESSAGES_REGION;
  if (cachedRegion === undefined || cachedRegion.env !== env) {
    cachedRegion = { env, region: resolveDefaultRegion(env, Intl.DateTimeFormat().resolvedOptions().locale) };
  }
  return cachedRegion.region;
}

// "ext. 12", "x12", "#12" at the end: an extension is not part of the number that Messages uses.
const EXTENSION_SUFFIX = /\s*(?:ext\.?|extension|x|#)\s*\d+\s*$/i;
// Anything numeric with up to 6 digits and no "+" is a short code ("32665") or a local service number.
const MAX_SHORT_CODE_DIGITS = 6;

/**
 * E.164 form of a phone number where it can be read as one ("+15551234567"), else its digits (with the
 * leading "+" if it had one); null when the text is not a phone number at all.
 *
 * Uses libphonenumber-js but accepts numbers that are merely *possible* (right length) rather than *valid*:
 * validity rejects the fictional 555 numbers, and Messages handles are compared, not dialled.
 */
export function normalizePhone(raw: string, region: CountryCode = defaultRegion()): string | null {
  const text = raw.trim().replace(EXTENSION_SUFFIX, "");
  if (/\p{L}/u.test(text)) return null;
  const digits = text.replace(/\D/g, "");
  if (digits.length === 0) return null;
  const international = text.startsWith("+");
  if (!international && digits.length <= MAX_SHORT_CODE_DIGITS) return digits;
  try {
    const parsed = libphonenumber().parsePhoneNumberFromString(text, region);
    if (parsed?.isPossible()) return parsed.number;
  } catch {
    // libphonenumber-js does not throw in this mode, but a key must never fail to compute.
  }
  return international ? `+${digits}` : digits;
}

/** Email addresses compare case-insensitively (as Messages and Contacts treat them). */
export function normalizeEmail(value: string): string {
  return value.trim().toLowerCase();
}

const HANDLE_PREFIX = /^(?:e|p|tel|sms|mailto|imessage):\s*/i;

/** The id without service prefixes ("e:", "tel:", "mailto:" …, even repeated) and surrounding space. */
function stripHandlePrefixes(id: string): string {
  let value = id.trim();
  while (HANDLE_PREFIX.test(value)) value = value.replace(HANDLE_PREFIX, "").trim();
  return value;
}
// Only characters people use when writing phone numbers, so that "chat1234" or "urn:biz:…" stay as text.
const PHONE_LIKE = /^\+?[\d\s().\-/]+(?:\s*(?:ext\.?|extension|x|#)\s*\d+)?$/i;

/**
 * One comparable key for any chat.db handle id or Contacts value: emails lower-cased, phone numbers as
 * E.164 (or digits), `e:`/`p:`/`tel:`/`mailto:` prefixes removed. Anything else is trimmed and lower-cased,
 * so the key is never lost. Never throws.
 */
export function handleKey(id: string, region: CountryCode = defaultRegion()): string {
  // Memoised: resolving a person compares their values with every chat.db handle, and libphonenumber
  // parsing dominated that (≈0.2 ms per number). The function is pure, so a cache is always correct. Keyed
  // by the id itself (per region), not a string built per call: a contact's page asks for every handle.
  let keys = handleKeyCache.get(region);
  if (!keys) {
    keys = new Map();
    handleKeyCache.set(region, keys);
  }
  const cached = keys.get(id);
  if (cached !== undefined) return cached;
  const key = computeHandleKey(id, region);
  return setWithin(keys, HANDLE_KEY_CACHE_LIMIT, id, key);
}

const HANDLE_KEY_CACHE_LIMIT = 50_000;
const handleKeyCache = new Map<CountryCode, Map<string, string>>();

function computeHandleKey(id: string, region: CountryCode): string {
  const value = stripHandlePrefixes(id);
  if (value.includes("@")) return normalizeEmail(value);
  if (PHONE_LIKE.test(value)) {
    const phone = normalizePhone(value, region);
    if (phone !== null) return phone;
  }
  return value.toLowerCase();
}

/** Whether a value (a search query, say) reads as an email address or a phone number. */
export function classifyHandle(value: string): "email" | "phone" | "other" {
  const stripped = stripHandlePrefixes(value);
  if (/^[^\s@]+@[^\s@]+$/.test(stripped)) return "email";
  if (PHONE_LIKE.test(stripped) && /\d{3}/.test(stripped.replace(/\D/g, ""))) return "phone";
  return "other";
}
