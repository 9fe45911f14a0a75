// Public face of the send layer: Messages.app and Contacts.app through osascript.

export {
  chatDbDeliveryCheck,
  DEFAULT_DELIVERY_WINDOW_MS,
  DELIVERY_WINDOW_ENV,
  type DeliveryCheck,
  type SentRow,
  type SentRowSource,
} from "./delivery.js";
export {
  AppleScriptError,
  type AppleScriptErrorCode,
  type AppleScriptOutput,
  DEFAULT_OSASCRIPT_TIMEOUT_MS,
  OSASCRIPT_TIMEOUT_ENV,
  type RunAppleScriptOptions,
  runAppleScript,
} from "./osascript.js";
export {
  MAX_TEXT_CHARS,
  MessageSender,
  type MessageSenderOptions,
  type NewContact,
  recheckFileAtUse,
  SendCancelledError,
  type SendContext,
  SendInputError,
  type SendResult,
  type SendTarget,
} from "./sender.js";
