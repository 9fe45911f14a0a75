// Tapbacks are stored as messages of their own that point at their target through
// `associated_message_guid` ("p:<part>/<guid>" or "bp:<guid>"). They are folded into their target here.
import type { Handle, Tapback, TapbackKind } from "./types.js";

const KINDS: readonly TapbackKind[] = [
  "love",
  "like",
  "dislike",
  "laugh",
  "emphasize",
  "question",
  "emoji",
  "sticker",
];

export const TAPBACK_ADD_MIN = 2000;
export const TAPBACK_ADD_MAX = 2007;
export const TAPBACK_REMOVE_MIN = 3000;
export const TAPBACK_REMOVE_MAX = 3007;

export function isTapbackType(type: number | null | undefined): boolean {
  return type != null && type >= TAPBACK_ADD_MIN && type <= TAPBACK_REMOVE_MAX;
}

export function tapbackKind(type: number): TapbackKind | null {
  const offset = type >= TAPBACK_REMOVE_MIN ? type - TAPBACK_REMOVE_MIN : type - TAPBACK_ADD_MIN;
  return KINDS[offset] ?? null;
}

export interface AssociatedTarget {
  guid: string;
  part: number;
}

/** "p:1/ABC" → {guid: "ABC", part: 1}; "bp:ABC" → part 0; a bare guid is taken as is. */
export function parseAssociatedGuid(value: string): AssociatedTarget {
  const partMatch = /^p:(\d+)\/(.+)$/.exec(value);
  if (partMatch) return { guid: partMatch[2]!, part: Number(partMatch[1]) };
  if (value.startsWith("bp:")) return { guid: value.slice(3), part: 0 };
  return { guid: value, part: 0 };
}

/** Every form a reaction may use to point at `guid`, for an index-friendly `IN (...)` lookup. */
export function associatedGuidForms(guid: string, partCount: number): string[] {
  const parts = Math.min(Math.max(partCount, 1), 64);
  const forms = [`bp:${guid}`];
  for (let i = 0; i < parts; i++) forms.push(`p:${i}/${guid}`);
  return forms;
}

export interface TapbackEvent {
  type: number;
  emoji: string | null;
  isFromMe: boolean;
  handle: Handle | null;
  date: Date;
  part: number;
}

/**
 * Replays add/remove events in time order and keeps what Messages still shows: one reaction per person per
 * message part, the newest (a new tapback replaces that person's previous one). A removal takes away that
 * person's reaction only when it is of the kind removed (emoji reactions are told apart by their emoji).
 */
export function foldTapbacks(events: readonly TapbackEvent[]): Tapback[] {
  const sorted = [...events].sort((a, b) => a.date.getTime() - b.date.getTime());
  const live = new Map<string, Tapback>();
  for (const event of sorted) {
    const kind = tapbackKind(event.type);
    if (!kind) continue;
    const who = event.isFromMe ? "me" : `h${event.handle?.rowid ?? "?"}`;
    const key = `${who}|${event.part}`;
    const emoji = kind === "emoji" ? event.emoji : null;
    if (event.type >= TAPBACK_REMOVE_MIN) {
      const current = live.get(key);
      if (current && current.kind === kind && (kind !== "emoji" || current.emoji === emoji)) live.delete(key);
    } else {
      // Delete first so the map's order (the order reactions are listed in) follows the newest change.
      live.delete(key);
      live.set(key, {
        kind,
        emoji,
        isFromMe: event.isFromMe,
        handle: event.isFromMe ? null : event.handle,
        date: event.date,
        part: event.part,
      });
    }
  }
  return [...live.values()];
}
