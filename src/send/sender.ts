// Sending policy on top of runAppleScript: input checks, iMessage→SMS fallback, dictionary dialects.
import { stat } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { AppleScriptError, type AppleScriptOutput, runAppleScript } from "./osascript.js";
import {
  CREATE_CONTACT,
  type MessagesService,
  PROBE_MESSAGES,
  type ScriptDialect,
  SEND_FILE_TO_CHAT,
  SEND_FILE_TO_HANDLE,
  SEND_TEXT_TO_CHAT,
  SEND_TEXT_TO_HANDLE,
} from "./scripts.js";

export type SendTarget =
  | { kind: "handle"; handle: string; preferService?: "iMessage" | "SMS" | "auto" }
  | { kind: "chat"; chatGuid: string };

export interface SendResult {
  ok: true;
  service: "iMessage" | "SMS" | "chat";
  /** The handle or chat guid the message went to. */
  target: string;
  /** Set when "auto" fell back from iMessage to SMS: why iMessage did not work. */
  fallbackReason?: string;
}

export interface NewContact {
  firstName: string;
  lastName?: string;
  phone?: string;
  email?: string;
}

export interface MessageSenderOptions {
  /** Per-osascript-run limit; default from MAC_MESSAGES_OSASCRIPT_TIMEOUT_MS, else 30 s. */
  timeoutMs?: number;
  /** Environment for osascript (its PATH decides which osascript runs). Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Bad input to the send layer, rejected before anything is started. */
export class SendInputError extends Error {
  override readonly name = "SendInputError";
  readonly code = "invalid_input";
}

export const MAX_TEXT_CHARS = 20_000;
const MAX_HANDLE_CHARS = 320; // the longest valid email address
const MAX_NAME_CHARS = 256;

/** AppleScript compile errors (syntax, undefined term): the script's dialect does not fit this Messages. */
const COMPILE_ERROR_NUMBERS = new Set([-2740, -2741, -2753]);

export function isDialectMismatch(error: unknown): boolean {
  return (
    error instanceof AppleScriptError &&
    error.code === "failed" &&
    error.osaErrorNumber !== undefined &&
    COMPILE_ERROR_NUMBERS.has(error.osaErrorNumber)
  );
}

/**
 * Whether an iMessage failure means "this recipient cannot get iMessage here", so SMS is worth a try:
 * Messages could not find the participant (-1728), there is no iMessage account (-1719, "invalid
 * index" from `first account whose service type = iMessage`), or the message names the iMessage
 * account/participant. Denied permission, timeouts, a stopped app or a non-Mac would fail the same
 * way over SMS, so they are never retried.
 */
export function shouldFallBackToSms(error: unknown): boolean {
  if (!(error instanceof AppleScriptError)) return false;
  if (error.code === "not_found") return true;
  if (error.code !== "failed") return false;
  if (error.osaErrorNumber === -1719) return true;
  const detail = error.detail ?? "";
  return /iMessage/i.test(detail) && /\b(account|service|buddy|participant)\b/i.test(detail);
}

function countCodePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** Checks shared by every string that becomes an osascript argument. */
function checkArgumentString(value: unknown, what: string): string {
  if (typeof value !== "string") throw new SendInputError(`${what} must be a string.`);
  if (value.includes("\0"))
    throw new SendInputError(`${what} contains a NUL character, which cannot be sent.`);
  // Lone surrogates would turn into U+FFFD on the way to osascript: refuse rather than alter the text.
  // (In a /u regex only an unpaired surrogate is a "Cs" code point; String#isWellFormed is not in ES2023's lib.)
  if (/\p{Cs}/u.test(value)) {
    throw new SendInputError(`${what} contains broken Unicode (an unpaired surrogate); it was not sent.`);
  }
  return value;
}

export function validateText(text: unknown): string {
  const checked = checkArgumentString(text, "The message text");
  if (checked.trim() === "") throw new SendInputError("The message text is empty.");
  const length = countCodePoints(checked);
  if (length > MAX_TEXT_CHARS) {
    throw new SendInputError(
      `The message text is ${length} characters long; the limit is ${MAX_TEXT_CHARS}. Split it into several messages.`,
    );
  }
  return checked;
}

export function validateHandle(handle: unknown): string {
  const trimmed = checkArgumentString(handle, "The recipient").trim();
  if (trimmed === "")
    throw new SendInputError("The recipient is empty: give a phone number or an email address.");
  if (trimmed.length > MAX_HANDLE_CHARS || /[\r\n\t]/.test(trimmed)) {
    throw new SendInputError("The recipient does not look like a phone number or an email address.");
  }
  return trimmed;
}

export function validateChatGuid(chatGuid: unknown): string {
  const trimmed = checkArgumentString(chatGuid, "The chat id").trim();
  if (trimmed === "") throw new SendInputError("The chat id is empty.");
  if (!trimmed.includes(";") || /\s/.test(trimmed)) {
    throw new SendInputError(
      'The chat id should be a chat guid from Messages, like "iMessage;-;+15551234567" or "any;+;chat123456789".',
    );
  }
  return trimmed;
}

export async function validateFilePath(filePath: unknown): Promise<string> {
  const checked = checkArgumentString(filePath, "The file path");
  if (checked === "") throw new SendInputError("The file path is empty.");
  if (!isAbsolute(checked))
    throw new SendInputError(`The file path must be absolute (start with "/"): ${checked}`);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(checked);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : `cannot be read (${code ?? "unknown error"})`;
    throw new SendInputError(`The file ${checked} ${why}.`);
  }
  if (!info.isFile()) throw new SendInputError(`${checked} is not a regular file.`);
  return checked;
}

function validateOptionalField(value: unknown, what: string): string {
  if (value === undefined || value === null) return "";
  const trimmed = checkArgumentString(value, what).trim();
  if (trimmed.length > MAX_NAME_CHARS)
    throw new SendInputError(`${what} is longer than ${MAX_NAME_CHARS} characters.`);
  return trimmed;
}

export function validateNewContact(contact: NewContact): [string, string, string, string] {
  const firstName = validateOptionalField(contact.firstName, "The first name");
  if (firstName === "") throw new SendInputError("A new contact needs a first name.");
  const lastName = validateOptionalField(contact.lastName, "The last name");
  const phone = validateOptionalField(contact.phone, "The phone number");
  const email = validateOptionalField(contact.email, "The email address");
  if (phone !== "" && !/\d/.test(phone))
    throw new SendInputError(`"${phone}" does not look like a phone number.`);
  if (email !== "" && !/^[^\s@]+@[^\s@]+$/.test(email)) {
    throw new SendInputError(`"${email}" does not look like an email address.`);
  }
  return [firstName, lastName, phone, email];
}

export class MessageSender {
  readonly #options: MessageSenderOptions;

  constructor(options: MessageSenderOptions = {}) {
    this.#options = options;
  }

  async sendText(target: SendTarget, text: string): Promise<SendResult> {
    const body = validateText(text);
    if (target.kind === "chat") {
      const chatGuid = validateChatGuid(target.chatGuid);
      await this.#run(SEND_TEXT_TO_CHAT, [chatGuid, body]);
      return { ok: true, service: "chat", target: chatGuid };
    }
    const handle = validateHandle(target.handle);
    const prefer = target.preferService ?? "auto";
    if (prefer !== "auto") {
      await this.#sendTextVia(prefer, handle, body);
      return { ok: true, service: prefer, target: handle };
    }
    try {
      await this.#sendTextVia("iMessage", handle, body);
      return { ok: true, service: "iMessage", target: handle };
    } catch (iMessageError) {
      if (!shouldFallBackToSms(iMessageError)) throw iMessageError;
      const reason = `iMessage did not work for ${handle}: ${(iMessageError as Error).message}`;
      try {
        await this.#sendTextVia("SMS", handle, body);
      } catch (smsError) {
        if (!(smsError instanceof AppleScriptError)) throw smsError;
        throw new AppleScriptError(
          smsError.code,
          `${reason} Sending as SMS failed too: ${smsError.message}`,
          smsError.osaErrorNumber,
          smsError.detail,
        );
      }
      return { ok: true, service: "SMS", target: handle, fallbackReason: `${reason} Sent as SMS instead.` };
    }
  }

  /** Files go over iMessage (no SMS fallback) or to an existing chat. */
  async sendFile(target: SendTarget, filePath: string): Promise<SendResult> {
    if (target.kind === "chat") {
      const chatGuid = validateChatGuid(target.chatGuid);
      const path = await validateFilePath(filePath);
      await this.#run(SEND_FILE_TO_CHAT, [chatGuid, path]);
      return { ok: true, service: "chat", target: chatGuid };
    }
    const handle = validateHandle(target.handle);
    if (target.preferService === "SMS") {
      throw new SendInputError(
        "Files can only be sent over iMessage or to an existing chat (use its chat id); not as SMS.",
      );
    }
    const path = await validateFilePath(filePath);
    await this.#runEitherDialect(SEND_FILE_TO_HANDLE, [handle, path]);
    return { ok: true, service: "iMessage", target: handle };
  }

  /** Whether Messages answers Apple events; never throws for osascript failures. */
  async probe(): Promise<{ ok: boolean; message: string }> {
    try {
      const { stdout } = await this.#runEitherDialect(PROBE_MESSAGES, []);
      const services = stdout.trim();
      return {
        ok: true,
        message: services
          ? `Messages is reachable. Signed-in services: ${services}.`
          : "Messages is reachable, but no services are signed in.",
      };
    } catch (error) {
      if (error instanceof AppleScriptError) return { ok: false, message: error.message };
      throw error;
    }
  }

  async createContact(contact: NewContact): Promise<{ ok: true }> {
    await this.#run(CREATE_CONTACT, validateNewContact(contact));
    return { ok: true };
  }

  #sendTextVia(service: MessagesService, handle: string, text: string): Promise<AppleScriptOutput> {
    return this.#runEitherDialect(
      { modern: SEND_TEXT_TO_HANDLE.modern[service], legacy: SEND_TEXT_TO_HANDLE.legacy[service] },
      [handle, text],
    );
  }

  /** Modern dictionary first; the legacy one only if the modern script does not compile. */
  async #runEitherDialect(scripts: Readonly<Record<ScriptDialect, string>>, args: string[]) {
    try {
      return await this.#run(scripts.modern, args);
    } catch (error) {
      if (!isDialectMismatch(error)) throw error;
      return await this.#run(scripts.legacy, args);
    }
  }

  #run(script: string, args: string[]): Promise<AppleScriptOutput> {
    return runAppleScript(script, args, { timeoutMs: this.#options.timeoutMs, env: this.#options.env });
  }
}
