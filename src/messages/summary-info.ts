// `message.message_summary_info`: a binary plist Messages writes for edited and unsent messages.
// Keys used here: `ep` edited part indexes, `rp` retracted (unsent) part indexes, `ec` edit history
// (part index as a string → [{ d: seconds since 2001, t: attributedBody typedstream of that version }]).
// Others seen (`otr` part ranges, `ust`, `amc`, `euh`) are not needed to show history.
// macOS 26 also keeps Messages' translation of a message here (see TRANSLATION_KEY).

import { appleSecondsToDate, dateToAppleSeconds } from "./apple-time.js";
import { bplistCreator, parseBinaryPlist } from "./binary-plist.js";
import { DecodeBudget, type DecodeLimits } from "./decode-limits.js";
import { archivePartEntries, unarchive } from "./keyed-archive.js";
import { attributedBodyText } from "./typedstream.js";
import { encodeAttributedBody } from "./typedstream-encode.js";
import type { EditInfo, EditRecord, Translation } from "./types.js";
import { parseXmlPlist } from "./xml-plist.js";

export interface EditHistoryInput {
  /** A translation to store as macOS 26 does (see TRANSLATION_KEY). */
  translation?: { text: string; language?: string; sourceLanguage?: string };
  editedParts: number[];
  unsentParts: number[];
  /** Versions per part, oldest first. Texts with U+FFFC may name the attachment guids of that version. */
  history: Record<number, { date: Date; text: string; attachmentGuids?: string[] }[]>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function partList(v: unknown): number[] {
  if (!Array.isArray(v)) return [];
  const parts = v.filter((p): p is number => typeof p === "number" && Number.isInteger(p) && p >= 0);
  return [...new Set(parts)].sort((a, b) => a - b);
}

function historyFrom(ec: unknown, budget: DecodeBudget): Record<number, EditRecord[]> {
  const history: Record<number, EditRecord[]> = {};
  if (!isRecord(ec)) return history;
  for (const [key, entries] of Object.entries(ec)) {
    const part = Number(key);
    if (!Number.isInteger(part) || part < 0 || !Array.isArray(entries)) continue;
    const records: { seconds: number; record: EditRecord }[] = [];
    for (const entry of entries) {
      if (!isRecord(entry) || typeof entry.d !== "number") continue;
      const date = appleSecondsToDate(entry.d);
      if (!date) continue;
      const blob = entry.t;
      records.push({
        seconds: entry.d,
        // Each version's typedstream draws on the same budget: the whole row gets one size and time bound.
        record: { date, text: blob instanceof Uint8Array ? attributedBodyText(blob, budget) : null },
      });
    }
    if (records.length === 0) continue;
    // Stable sort: Messages already stores versions oldest first; this only guards odd data.
    records.sort((a, b) => a.seconds - b.seconds);
    history[part] = records.map((r) => r.record);
  }
  return history;
}

/**
 * Bounds for one row's plist and the typedstreams inside it. Real ones hold a few dozen values and at most a
 * few KB; these leave room for a long message edited many times and nothing like the probe's 2^25 expansion.
 */
export const SUMMARY_INFO_LIMITS: Readonly<Partial<DecodeLimits>> = Object.freeze({
  maxBytes: 1024 * 1024,
  maxValues: 50_000,
  maxMillis: 1000,
});

/**
 * macOS 26 keeps Messages' translation of a message under `tmp`: an NSKeyedArchiver archive of
 * { part index → [ { translatedText: NSAttributedString, translationLanguage: "fr_FR", sourceLanguage: "en_US" } ] }
 * (as in the real imessage-exporter test database). Parts are joined in order.
 */
export const TRANSLATION_KEY = "tmp";

function translationFrom(value: unknown, budget: DecodeBudget): Translation | null {
  if (!(value instanceof Uint8Array)) return null;
  const archive = unarchive(value, budget);
  if (!isRecord(archive)) return null;
  const texts: string[] = [];
  let language: string | null = null;
  let sourceLanguage: string | null = null;
  const parts = Object.keys(archive)
    .filter((k) => /^\d+$/.test(k))
    .sort((a, b) => Number(a) - Number(b));
  for (const part of parts) {
    const entries = archive[part];
    for (const entry of Array.isArray(entries) ? entries : [entries]) {
      if (!isRecord(entry) || typeof entry.translatedText !== "string") continue;
      if (entry.translatedText.trim() !== "") texts.push(entry.translatedText);
      if (typeof entry.translationLanguage === "string") language ??= entry.translationLanguage;
      if (typeof entry.sourceLanguage === "string") sourceLanguage ??= entry.sourceLanguage;
    }
  }
  if (texts.length === 0) return null;
  return { text: texts.join("\n"), language, sourceLanguage };
}

/** What message_summary_info says: edit/unsend history and (macOS 26) a translation. */
export interface SummaryInfo {
  edit: EditInfo | null;
  translation: Translation | null;
}

/**
 * Edit/unsend info of a message, or null when there is none (or the blob is absent, unreadable, or past the
 * decode limits). Never throws.
 */
export function parseMessageSummaryInfo(
  blob: Uint8Array | null | undefined,
  limits: Partial<DecodeLimits> = SUMMARY_INFO_LIMITS,
): EditInfo | null {
  return readSummaryInfo(blob, limits).edit;
}

/** Everything read from message_summary_info; both parts null when absent, unreadable or past the limits. Never throws. */
export function readSummaryInfo(
  blob: Uint8Array | null | undefined,
  limits: Partial<DecodeLimits> = SUMMARY_INFO_LIMITS,
): SummaryInfo {
  const none: SummaryInfo = { edit: null, translation: null };
  if (!(blob instanceof Uint8Array) || blob.length < 8) return none;
  let root: unknown;
  let history: Record<number, EditRecord[]>;
  let translation: Translation | null;
  try {
    const budget = new DecodeBudget(limits);
    budget.checkSize(blob.length);
    const buffer = Buffer.isBuffer(blob) ? blob : Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    if (buffer.subarray(0, 6).toString("latin1") === "bplist") root = parseBinaryPlist(buffer, budget);
    else if (
      buffer.subarray(0, 64).includes("<plist") ||
      buffer.subarray(0, 5).toString("latin1") === "<?xml"
    ) {
      root = parseXmlPlist(buffer.toString("utf8"), budget);
    } else return none;
    if (!isRecord(root)) return none;
    history = historyFrom(root.ec, budget);
    translation = translationFrom(root[TRANSLATION_KEY], budget);
  } catch {
    return none;
  }
  const unsentParts = partList(root.rp);
  let editedParts = partList(root.ep);
  if (editedParts.length === 0) editedParts = Object.keys(history).map(Number);
  if (editedParts.length === 0 && unsentParts.length === 0 && Object.keys(history).length === 0)
    return { edit: null, translation };
  return { edit: { editedParts, unsentParts, history }, translation };
}

function checkParts(parts: number[], what: string): number[] {
  if (!Array.isArray(parts)) throw new TypeError(`encodeMessageSummaryInfo: ${what} must be an array`);
  for (const p of parts) {
    if (!Number.isInteger(p) || p < 0)
      throw new RangeError(`encodeMessageSummaryInfo: ${what} has an invalid part index ${p}`);
  }
  return [...parts];
}

/** Writes a message_summary_info binary plist shaped like Messages' own (for demo data and tests). */
export function encodeMessageSummaryInfo(info: EditHistoryInput): Buffer {
  const plist: Record<string, unknown> = {};
  const ec: Record<string, unknown[]> = {};
  for (const [key, versions] of Object.entries(info.history ?? {})) {
    const part = Number(key);
    if (!Number.isInteger(part) || part < 0)
      throw new RangeError(`encodeMessageSummaryInfo: invalid history part "${key}"`);
    if (!Array.isArray(versions))
      throw new TypeError(`encodeMessageSummaryInfo: history[${key}] must be an array`);
    ec[String(part)] = versions.map((v, i) => {
      if (!(v.date instanceof Date) || Number.isNaN(v.date.getTime())) {
        throw new RangeError(`encodeMessageSummaryInfo: history[${key}][${i}] has an invalid date`);
      }
      let guids = v.attachmentGuids;
      if (!guids) {
        const count = v.text.split("\ufffc").length - 1;
        guids = Array.from({ length: count }, (_, n) => `at_${n}_EDIT-${part}-${i}-${n}`);
      }
      return {
        d: new (bplistCreator().Real)(dateToAppleSeconds(v.date)),
        t: encodeAttributedBody(v.text, { mutable: false, attachmentGuids: guids }),
      };
    });
  }
  const editedParts = checkParts(info.editedParts ?? [], "editedParts");
  const unsentParts = checkParts(info.unsentParts ?? [], "unsentParts");
  if (Object.keys(ec).length > 0) plist.ec = ec;
  if (editedParts.length > 0) plist.ep = editedParts;
  if (unsentParts.length > 0) plist.rp = unsentParts;
  if (info.translation) {
    const fields: Record<string, { value: string; attributed?: boolean }> = {
      translatedText: { value: info.translation.text, attributed: true },
    };
    if (info.translation.language) fields.translationLanguage = { value: info.translation.language };
    if (info.translation.sourceLanguage) fields.sourceLanguage = { value: info.translation.sourceLanguage };
    plist[TRANSLATION_KEY] = archivePartEntries({ 0: fields });
  }
  plist.ust = true;
  return bplistCreator()(plist);
}
