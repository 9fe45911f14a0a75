// Public face of the blob and date codecs (attributedBody typedstream, message_summary_info, Apple time).

export {
  appleNanosToDate,
  appleSecondsToDate,
  dateToAppleNanos,
  dateToAppleSeconds,
  formatLocal,
} from "./apple-time.js";
export type { EditHistoryInput } from "./summary-info.js";
export { encodeMessageSummaryInfo, parseMessageSummaryInfo } from "./summary-info.js";
export type { ArchivedObject, AttributedBodyResult, AttributeRun } from "./typedstream.js";
export { attributedBodyText, decodeAttributedBody } from "./typedstream.js";
export type { EncodeAttributedBodyOptions } from "./typedstream-encode.js";
export { encodeAttributedBody } from "./typedstream-encode.js";
