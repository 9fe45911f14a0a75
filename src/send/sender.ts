// Sending policy on top of runAppleScript: input checks, iMessage→SMS fallback, dictionary dialects,
// write-ahead audit, cancellation up to the moment osascript starts, files re-checked at use, and a look
// in chat.db afterwards for the row the send produced.
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { open, realpath, stat } from "node:fs/promises";
import { basename, isAbsolute } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { AuditLog, SendVia } from "../audit/index.js";
import { isInsideAny } from "../util/paths.js";
import { UserFacingError } from "../util/user-facing-error.js";
import { type DeliveryCheck, deliveryWindowMs, type SentRow } from "./delivery.js";
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
  /**
   * How it went: the service asked of Messages ("chat": the chat's own), replaced by the service of the
   * row found in chat.db when the send was confirmed there (so an SMS-account send that went as RCS says RCS).
   */
  service: "iMessage" | "SMS" | "RCS" | "chat" | (string & {});
  /** The handle or chat guid the message went to. */
  target: string;
  /** Set when "auto" fell back from iMessage to SMS: why iMessage did not work. */
  fallbackReason?: string;
  /**
   * Only with a delivery check: "confirmed" when the sent row showed up in chat.db, "uncertain" when
   * Messages accepted the send but no row appeared within the window (it may still be on its way).
   */
  delivery?: "confirmed" | "uncertain";
  /** The chat.db row of the sent message, when confirmed. */
  rowid?: number;
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
  /** How long to look for a sent row in chat.db; default MAC_MESSAGES_DELIVERY_WINDOW_MS (in env), else 5 s. */
  deliveryWindowMs?: number;
}

/** Who asked for a send (for the audit log) and what the send must respect. */
export interface SendContext {
  /** The OAuth client that asked, in remote mode. */
  clientId?: string;
  via?: SendVia;
  /**
   * The request's cancellation. Honoured up to the moment osascript starts; once it runs, the message may
   * already be with Messages, so the run finishes and its outcome is recorded (never silently dropped).
   */
  signal?: AbortSignal;
  /**
   * Real paths of the folders files may be sent from. When given, a file is checked again right before
   * osascript starts: a folder swapped for a symlink while a confirmation dialog was open is refused.
   */
  allowedRoots?: readonly string[];
  /** Where to look for the sent row afterwards (chat.db); without it no delivery status is given. */
  delivery?: DeliveryCheck;
}

/** Bad input to the send layer, rejected before anything is started. */
export class SendInputError extends UserFacingError {
  override readonly name = "SendInputError";
  readonly code = "invalid_input";
}

/** The request was cancelled before osascript started: nothing was sent. */
export class SendCancelledError extends Error {
  override readonly name = "SendCancelledError";
  readonly code = "cancelled";
  constructor(
    message = "The request was cancelled before the message was handed to Messages, so nothing was sent.",
  ) {
    super(message);
  }
}

/** What every osascript run of one send must honour just before it starts. */
interface RunGuard {
  signal?: AbortSignal;
  /** Checks that must pass right before this run (a file still where it was checked). */
  beforeRun?: () => Promise<void>;
}

/**
 * A file about to be sent is still the file that was checked: its real path unchanged and inside the
 * allowed folders, not a symlink, a regular file, the same inode as the path names. Closes the window in
 * which a folder could be swapped for a symlink (to outside the allowed folders) during a confirmation
 * dialog. Messages reads the file by path moments later; this leaves it milliseconds instead of minutes.
 */
export async function recheckFileAtUse(path: string, allowedRoots: readonly string[]): Promise<void> {
  const refuse = (why: string): never => {
    throw new SendInputError(`The file ${path} ${why} since it was checked. Nothing was sent.`);
  };
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    return refuse("disappeared or became unreadable");
  }
  if (real !== path) refuse(`now leads somewhere else (${real})`);
  if (!isInsideAny(real, allowedRoots)) refuse("is no longer inside the folders files may be sent from");
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // O_NOFOLLOW: the last step must not be a symlink; O_NONBLOCK: a FIFO put there must not hang us.
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return refuse("was replaced (it is a symlink or cannot be opened)");
  }
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) refuse("is no longer a regular file");
    const named = await stat(real);
    if (named.ino !== opened.ino || named.dev !== opened.dev) refuse("was replaced by another file");
  } finally {
    await handle.close();
  }
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

/** A send that has been written ahead and not finished: what shutdown must wait for or record. */
interface InFlightSend {
  attempt: string;
  base: {
    kind: "send_message";
    text: string;
    via?: SendVia;
    clientId?: string;
    attempt: string;
    pid: number;
  };
  target: string;
  settled: Promise<unknown>;
}

export class MessageSender {
  readonly #options: MessageSenderOptions;
  readonly #inFlight = new Map<string, InFlightSend>();
  /** Set by drain(): sends still finishing skip the chat.db look, so shutdown waits only for osascript. */
  #stopping = false;

  constructor(options: MessageSenderOptions = {}) {
    this.#options = options;
  }

  /** Sends a text; the attempt is audited, successful or not (the text only as a keyed hash unless opted in). */
  sendText(target: SendTarget, text: string, context: SendContext = {}): Promise<SendResult> {
    return this.#audited(target, text, context, (guard) => this.#sendText(target, text, guard), { text });
  }

  /** Files go over iMessage (no SMS fallback) or to an existing chat; audited by file name only. */
  sendFile(target: SendTarget, filePath: string, context: SendContext = {}): Promise<SendResult> {
    // The path is the owner's own layout and the content is never logged: the name identifies the file.
    const text = `[file] ${basename(String(filePath))}`;
    const roots = context.allowedRoots;
    const beforeRun = roots ? () => recheckFileAtUse(String(filePath), roots) : undefined;
    return this.#audited(
      target,
      text,
      context,
      (guard) => this.#sendFile(target, filePath, { ...guard, beforeRun }),
      { fileName: basename(String(filePath)) },
    );
  }

  /** How many sends are between their `sending` line and their outcome. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Waits up to `timeoutMs` for the sends in flight to finish (and be audited), for a clean shutdown; then
   * records any still running as interrupted, so the log never lacks a send that may have gone out.
   * Resolves with how many had to be recorded that way.
   */
  async drain(timeoutMs: number): Promise<number> {
    this.#stopping = true;
    if (this.#inFlight.size > 0) {
      const deadline = sleep(timeoutMs, undefined, { ref: false });
      await Promise.race([Promise.allSettled([...this.#inFlight.values()].map((s) => s.settled)), deadline]);
    }
    return this.recordInterrupted("The server was stopped while this was being sent");
  }

  /** Records every send still in flight as interrupted (outcome unknown); for a stop that cannot wait. */
  recordInterrupted(why: string): number {
    const audit = this.#options.audit;
    const pending = [...this.#inFlight.values()];
    for (const send of pending) {
      this.#inFlight.delete(send.attempt);
      audit?.record(
        {
          ...send.base,
          phase: "interrupted",
          target: send.target,
          ok: null,
          error: `${why}: it may or may not have been delivered. Check the conversation in Messages.`,
        },
        { durable: true },
      );
    }
    return pending.length;
  }

  /**
   * Writes the attempt ahead (durably) before anything can reach osascript, then its outcome; the outcome
   * reaches the caller unchanged. With a delivery check, a successful send is then looked up in chat.db.
   */
  async #audited(
    target: SendTarget,
    text: string,
    context: SendContext,
    send: (guard: RunGuard) => Promise<SendResult>,
    content: { text?: string; fileName?: string },
  ): Promise<SendResult> {
    if (context.signal?.aborted) throw new SendCancelledError();
    if (this.#stopping) throw new SendCancelledError("The server is stopping, so nothing was sent.");
    const audit = this.#options.audit;
    const attempt = `${process.pid}-${randomBytes(6).toString("hex")}`;
    const base = {
      kind: "send_message" as const,
      text,
      via: context.via,
      clientId: context.clientId,
      attempt,
      pid: process.pid,
    };
    const recipient = targetText(target);
    audit?.record({ ...base, phase: "sending", target: recipient, ok: null }, { durable: true });
    let finished!: () => void;
    const settled = new Promise<void>((resolve) => {
      finished = resolve;
    });
    this.#inFlight.set(attempt, { attempt, base, target: recipient, settled });
    try {
      return await this.#sendAndRecord(target, context, send, content, base, recipient);
    } finally {
      finished();
    }
  }

  async #sendAndRecord(
    target: SendTarget,
    context: SendContext,
    send: (guard: RunGuard) => Promise<SendResult>,
    content: { text?: string; fileName?: string },
    base: InFlightSend["base"],
    recipient: string,
  ): Promise<SendResult> {
    const audit = this.#options.audit;
    const attempt = base.attempt;
    let mark: number | undefined;
    let result: SendResult;
    try {
      mark = context.delivery?.mark();
      result = await send({ signal: context.signal });
    } catch (error) {
      if (this.#inFlight.delete(attempt)) {
        audit?.record({ ...base, phase: "failed", target: recipient, ok: false, error: firstLine(error) });
      }
      throw error;
    }
    if (context.delivery && mark !== undefined) {
      const row = await this.#lookForRow(context.delivery, mark, { target, ...content });
      result = row
        ? { ...result, delivery: "confirmed", rowid: row.rowid, service: row.service || result.service }
        : { ...result, delivery: "uncertain" };
    }
    // Gone from the map only if a shutdown already recorded it as interrupted: then that line stands.
    if (this.#inFlight.delete(attempt)) {
      audit?.record({
        ...base,
        phase: "sent",
        target: result.target,
        service: result.service,
        ok: true,
        ...(result.delivery ? { delivery: result.delivery } : {}),
      });
    }
    return result;
  }

  /** Polls chat.db for the sent row until it shows up or the window closes. */
  async #lookForRow(
    check: DeliveryCheck,
    mark: number,
    sent: { target: SendTarget; text?: string; fileName?: string },
  ): Promise<SentRow | null> {
    const deadline =
      Date.now() + (this.#options.deliveryWindowMs ?? deliveryWindowMs(this.#options.env ?? process.env));
    for (let pause = 100; !this.#stopping; pause = Math.min(pause * 2, 500)) {
      try {
        const row = check.find(mark, sent);
        if (row) return row;
      } catch {
        // chat.db busy or locked for a moment: the next look may work; the send itself already happened.
      }
      if (Date.now() >= deadline) return null;
      await sleep(Math.min(pause, Math.max(0, deadline - Date.now())));
    }
    return null;
  }

  async #sendText(target: SendTarget, text: string, guard: RunGuard): Promise<SendResult> {
    const body = validateText(text);
    if (target.kind === "chat") {
      const chatGuid = validateChatGuid(target.chatGuid);
      await this.#run(SEND_TEXT_TO_CHAT, [chatGuid, body], guard);
      return { ok: true, service: "chat", target: chatGuid };
    }
    const handle = validateHandle(target.handle);
    const prefer = target.preferService ?? "auto";
    if (prefer !== "auto") {
      await this.#sendTextVia(prefer, handle, body, guard);
      return { ok: true, service: prefer, target: handle };
    }
    try {
      await this.#sendTextVia("iMessage", handle, body, guard);
      return { ok: true, service: "iMessage", target: handle };
    } catch (iMessageError) {
      if (!shouldFallBackToSms(iMessageError)) throw iMessageError;
      const reason = `iMessage did not work for ${handle}: ${(iMessageError as Error).message}`;
      try {
        await this.#sendTextVia("SMS", handle, body, guard);
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

  async #sendFile(target: SendTarget, filePath: string, guard: RunGuard): Promise<SendResult> {
    if (target.kind === "chat") {
      const chatGuid = validateChatGuid(target.chatGuid);
      const path = await validateFilePath(filePath);
      await this.#run(SEND_FILE_TO_CHAT, [chatGuid, path], guard);
      return { ok: true, service: "chat", target: chatGuid };
    }
    const handle = validateHandle(target.handle);
    if (target.preferService === "SMS") {
      throw new SendInputError(
        "Files can only be sent over iMessage or to an existing chat (use its chat id); not as SMS.",
      );
    }
    const path = await validateFilePath(filePath);
    await this.#runEitherDialect(SEND_FILE_TO_HANDLE, [handle, path], guard);
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

  #sendTextVia(
    service: MessagesService,
    handle: string,
    text: string,
    guard: RunGuard,
  ): Promise<AppleScriptOutput> {
    return this.#runEitherDialect(
      { modern: SEND_TEXT_TO_HANDLE.modern[service], legacy: SEND_TEXT_TO_HANDLE.legacy[service] },
      [handle, text],
      guard,
    );
  }

  /** Modern dictionary first; the legacy one only if the modern script does not compile. */
  async #runEitherDialect(
    scripts: Readonly<Record<ScriptDialect, string>>,
    args: string[],
    guard: RunGuard = {},
  ) {
    try {
      return await this.#run(scripts.modern, args, guard);
    } catch (error) {
      if (!isDialectMismatch(error)) throw error;
      return await this.#run(scripts.legacy, args, guard);
    }
  }

  /**
   * One osascript run. The guard's checks come last before execFile, with nothing awaited between the
   * cancellation check and the start: a cancel that arrived in time always wins.
   */
  async #run(script: string, args: string[], guard: RunGuard = {}): Promise<AppleScriptOutput> {
    if (guard.beforeRun) await guard.beforeRun();
    if (guard.signal?.aborted) throw new SendCancelledError();
    return runAppleScript(script, args, { timeoutMs: this.#options.timeoutMs, env: this.#options.env });
  }
}
