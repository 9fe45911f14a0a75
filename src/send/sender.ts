// Sending policy on top of runAppleScript: input checks, iMessage→SMS fallback, dictionary dialects.
import { stat } from "node:fs/promises";
import { basename, isAbsolute } from "node:path";
import type { AuditLog, SendVia } from "../audit/index.js";
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
  /** Where every send and contact creation is recorded, whoever asked for it; none when left out. */
  audit?: AuditLog | null;
}

/** Who asked for a send, for the audit log. */
export interface SendContext {
  /** The OAuth client that asked, in remote mode. */
  clientId?: string;
  via?: SendVia;
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

/** The recipient of a failed send in words for the log, whatever shape the caller passed. */
function targetText(target: SendTarget): string {
  return String(target?.kind === "chat" ? target.chatGuid : target?.handle);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}

export class MessageSender {
  readonly #options: MessageSenderOptions;

  constructor(options: MessageSenderOptions = {}) {
    this.#options = options;
  }

  /** Sends a text; the attempt is audited, successful or not (the text only as a hash unless opted in). */
  sendText(target: SendTarget, text: string, context: SendContext = {}): Promise<SendResult> {
    return this.#audited(target, text, context, () => this.#sendText(target, text));
  }

  /** Files go over iMessage (no SMS fallback) or to an existing chat; audited by file name only. */
  sendFile(target: SendTarget, filePath: string, context: SendContext = {}): Promise<SendResult> {
    // The path is the owner's own layout and the content is never logged: the name identifies the file.
    const text = `[file] ${basename(String(filePath))}`;
    return this.#audited(target, text, context, () => this.#sendFile(target, filePath));
  }

  /** Records one send attempt after it succeeded or failed; the outcome reaches the caller unchanged. */
  async #audited(
    target: SendTarget,
    text: string,
    context: SendContext,
    send: () => Promise<SendResult>,
  ): Promise<SendResult> {
    const audit = this.#options.audit;
    if (!audit) return send();
    const base = { kind: "send_message" as const, text, via: context.via, clientId: context.clientId };
    try {
      const result = await send();
      audit.record({ ...base, target: result.target, service: result.service, ok: true });
      return result;
    } catch (error) {
      audit.record({ ...base, target: targetText(target), ok: false, error: firstLine(error) });
      throw error;
    }
  }

  async #sendText(target: SendTarget, text: string): Promise<SendResult> {
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

  async #sendFile(target: SendTarget, filePath: string): Promise<SendResult> {
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

  /** Adds a contact through Contacts.app; audited with its phone/email, not its name (see AuditEvent). */
  async createContact(
    contact: NewContact,
    context: Pick<SendContext, "clientId"> = {},
  ): Promise<{ ok: true }> {
    const given = (value: unknown) =>
      typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
    const base = {
      kind: "create_contact" as const,
      phone: given(contact.phone),
      email: given(contact.email),
      clientId: context.clientId,
    };
    try {
      await this.#run(CREATE_CONTACT, validateNewContact(contact));
    } catch (error) {
      this.#options.audit?.record({ ...base, ok: false, error: firstLine(error) });
      throw error;
    }
    this.#options.audit?.record({ ...base, ok: true });
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
