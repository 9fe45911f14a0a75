// Public face of the Messages data layer: open chat.db read-only and read typed rows from it.
export { appleNanosToDate, dateToAppleNanos, formatLocal } from "./apple-time.js";
export { MessagesDbError, type MessagesDbErrorCode } from "./errors.js";
export {
  buildIndex,
  IndexedMessagesReader,
  type IndexedReaderOptions,
  progressToStderr,
} from "./indexed-reader.js";
export { SearchIndex, searchIndexPath } from "./search-index.js";
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
