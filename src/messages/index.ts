// Public face of the Messages data layer: open chat.db read-only and read typed rows from it.
export { appleNanosToDate, dateToAppleNanos, formatLocal } from "./apple-time.js";
export { MessagesDbError, type MessagesDbErrorCode } from "./errors.js";
export {
  MessagesStore,
  type OpenOptions,
  openMessagesStore,
  resolveAttachmentPath,
} from "./store.js";
export { parseMessageSummaryInfo } from "./summary-info.js";
export { createTextMatcher, normalizeForSearch, type TextMatcher } from "./text-match.js";
export { attributedBodyText, decodeAttributedBody } from "./typedstream.js";
export type * from "./types.js";
