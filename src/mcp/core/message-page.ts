// A page of messages as the model reads it, shared by the message tools.
import type { MessageView } from "../format.js";
import { renderMessagePage } from "../render-messages.js";
import { moreNote } from "./paging.js";
import type { EmptyFilter } from "./resolve-references.js";
import { okResult } from "./tool-result.js";

/** A page of messages as the model reads it; `names` are what the refs in the header stand for. */
export function pageText(
  header: string,
  names: readonly string[],
  page: MessageView[],
  nextCursor: string | null,
  emptyNote: string,
  oneChat: boolean,
  timeZone: string,
): string {
  return renderMessagePage({
    header,
    names,
    messages: page,
    oneChat,
    emptyNote,
    timeZone,
    more: moreNote("messages", nextCursor).trim() || undefined,
  });
}

/** The result when the contact/chat filter rules out every message: it says why. */
export function noMessages(why: EmptyFilter, extra: Record<string, unknown>) {
  return okResult(why.emptyText, { messages: [], count: 0, nextCursor: null, filter: why.empty, ...extra });
}
