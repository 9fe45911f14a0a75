// Append-only audit trail of what a person would want to check after the fact: every message sent (by
// send_message or a scheduled message), every contact created, and every OAuth grant, refresh and
// revocation. One JSON object per line, owner-only (0600), message text only when the owner opts in.
//
// Without the text, a send carries its length and an HMAC-SHA256 of it under a per-install secret
// (audit.key, 0600, beside the log): enough for the owner to match a message they have in hand, useless to
// whoever gets only the log. (A plain SHA-256 gave a 4-digit door code back in 42 ms of guessing.)
//
// Sends are written ahead: a `sending` line (fsynced) before osascript starts, then `sent` or `failed`. A
// server killed in between leaves a `sending` line with no outcome; the next start finds it and appends
// `interrupted`, so a message that may have gone out is never missing from the log.
import { createHmac, randomBytes } from "node:crypto";
import {
  closeSync,
  fchmodSync,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { processIsAlive } from "../util/secure-file.js";

export const AUDIT_LOG_FILE = "audit.log";
export const AUDIT_KEY_FILE = "audit.key";
export const AUDIT_TEXT_ENV = "MAC_MESSAGES_AUDIT_TEXT";

/** Where a send stands: written ahead (`sending`), finished (`sent`/`failed`), or found unfinished later. */
export type SendPhase = "sending" | "sent" | "failed" | "interrupted";
export type TokenRevocationReason =
  /** The client asked /revoke. */
  | "revocation_request"
  /** An authorization code was used twice: the grant it produced is ended (RFC 6749 §4.1.2). */
  | "code_replay"
  /** A rotated refresh token came back after its grace period: the grant is ended (RFC 9700 §4.14). */
  | "refresh_reuse"
  /** The owner removed the client (`auth revoke`). */
  | "client_revoked";

/** What made a send happen: the send_message tool, or a scheduled message coming due. */
export type SendVia = "send_message" | "schedule";

export type AuditEvent =
  | {
      kind: "send_message";
      /** Absent in lines written before write-ahead existed (read as a finished send). */
      phase?: SendPhase;
      /** Ties a `sending` line to its outcome: `<pid>-<random>`. */
      attempt?: string;
      /** The server process that made the attempt (to tell a crashed one from a live one). */
      pid?: number;
      /** The recipient as sent: handle (phone/email) or chat guid. */
      target: string;
      service?: string;
      /** null while sending, or when the outcome is unknown (interrupted). */
      ok: boolean | null;
      /** Whether the sent row was found in chat.db afterwards (send_message only). */
      delivery?: "confirmed" | "uncertain";
      /** Short error description when ok is false. */
      error?: string;
      /** Only its length and keyed hash are written unless text logging is switched on. */
      text: string;
      via?: SendVia;
      clientId?: string;
    }
  | {
      /**
       * A contact added through Contacts.app. Its phone/email are kept (the same kind of value as a send's
       * target, and what ties the contact to later sends); its name is not: free text nobody needs to trace it.
       */
      kind: "create_contact";
      ok: boolean;
      error?: string;
      phone?: string;
      email?: string;
      clientId?: string;
    }
  | { kind: "client_registered"; clientId: string; clientName?: string; redirectUris: string[] }
  | { kind: "token_granted"; clientId: string; scopes: string[]; resource: string }
  | { kind: "token_refreshed"; clientId: string; scopes: string[]; resource: string }
  | { kind: "token_revoked"; clientId: string; reason: TokenRevocationReason; tokenType?: string }
  | { kind: "consent_denied"; clientId: string }
  /** The owner approved a client on the consent page. */
  | { kind: "consent_approved"; clientId: string; scopes: string[]; source: string }
  /** A wrong owner password on the consent page (attempts refused by a lockout are never checked). */
  | { kind: "consent_password_failed"; clientId: string; source: string };

export type AuditEventKind = AuditEvent["kind"];

export interface AuditLogOptions {
  /** Write message text in full. Default: `MAC_MESSAGES_AUDIT_TEXT=1` in the environment. */
  includeText?: boolean;
  /** Told when a line could not be written (the audited action itself still goes ahead). */
  onError?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
}

export function auditLogPath(stateDir: string): string {
  return join(stateDir, AUDIT_LOG_FILE);
}

/** A send_message line as read back from the log. */
export interface SendLine {
  phase?: SendPhase;
  attempt?: string;
  pid?: number;
  target?: string;
  via?: string;
  clientId?: string;
  textLength?: number;
  textHmac?: string;
}

/** How much of the log's end is read to find unfinished sends (they are always among the last lines). */
const RECOVERY_TAIL_BYTES = 4 * 1024 * 1024;

export class AuditLog {
  readonly includeText: boolean;
  readonly keyPath: string;
  private readonly onError: (message: string) => void;
  private readonly now: () => Date;
  /** undefined: not loaded yet; null: could not be made (hashes are then left out, lengths kept). */
  private key: Buffer | null | undefined;

  constructor(
    readonly path: string,
    options: AuditLogOptions = {},
  ) {
    this.includeText = options.includeText ?? (options.env ?? process.env)[AUDIT_TEXT_ENV] === "1";
    this.onError = options.onError ?? ((message) => process.stderr.write(`${message}\n`));
    this.now = options.now ?? (() => new Date());
    this.keyPath = join(dirname(path), AUDIT_KEY_FILE);
  }

  /**
   * The per-install secret for text hashes, made on first use: 32 random bytes, 0600, written to a temp
   * file and linked into place, so two processes starting at once agree on one key (the loser reads the
   * winner's) and a crash never leaves a short key behind.
   */
  private textKey(): Buffer | null {
    if (this.key !== undefined) return this.key;
    try {
      this.key = readFileSync(this.keyPath);
      if (this.key.length < 32) throw new Error(`${this.keyPath} is shorter than 32 bytes`);
      return this.key;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        this.onError(
          `audit log: cannot use ${this.keyPath} (${(error as Error).message}); text hashes left out`,
        );
        this.key = null;
        return null;
      }
    }
    const temp = `${this.keyPath}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      mkdirSync(dirname(this.keyPath), { recursive: true, mode: 0o700 });
      const fd = openSync(temp, "wx", 0o600);
      try {
        writeSync(fd, randomBytes(32));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      try {
        linkSync(temp, this.keyPath);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      this.key = readFileSync(this.keyPath);
    } catch (error) {
      this.onError(
        `audit log: cannot create ${this.keyPath} (${(error as Error).message}); text hashes left out`,
      );
      this.key = null;
    } finally {
      try {
        unlinkSync(temp);
      } catch {
        // Never created, or already gone.
      }
    }
    return this.key;
  }

  /** The keyed hash written for a message text (hex), or null without a usable key: lets the owner match a text. */
  textHmac(text: string): string | null {
    const key = this.textKey();
    return key ? createHmac("sha256", key).update(text).digest("hex") : null;
  }

  /** The JSON object written for an event (exposed so the format is testable without a file). */
  entryFor(event: AuditEvent): Record<string, unknown> {
    const at = this.now().toISOString();
    if (event.kind !== "send_message") return { at, ...event };
    const { text, ...rest } = event;
    // An interrupted send is found from its `sending` line, which already holds the text's length and hash.
    if (event.phase === "interrupted") return { at, ...rest };
    const hmac = this.includeText ? null : this.textHmac(text);
    return {
      at,
      ...rest,
      textLength: text.length,
      ...(hmac ? { textHmac: hmac } : {}),
      ...(this.includeText ? { text } : {}),
    };
  }

  /**
   * Appends one line. Never throws: the message was already sent or the token already issued, so a
   * failing disk must not turn that into an error for the caller; it is reported through onError instead.
   */
  record(event: AuditEvent, options: { durable?: boolean } = {}): void {
    let line: string;
    try {
      line = `${JSON.stringify(this.entryFor(event))}\n`;
    } catch (error) {
      this.onError(`audit log: could not encode a ${event.kind} event: ${(error as Error).message}`);
      return;
    }
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      // O_APPEND: each write lands at the end even with several processes (server + CLI) appending.
      const fd = openSync(this.path, "a", 0o600);
      try {
        // The mode only applies on creation; a file made by hand with wider permissions is tightened.
        if ((fstatSync(fd).mode & 0o777) !== 0o600) fchmodSync(fd, 0o600);
        writeSync(fd, line);
        // A write-ahead line must survive a power cut too, or "sending" could vanish while the message went out.
        if (options.durable) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      this.onError(`audit log: could not append to ${this.path}: ${(error as Error).message}`);
    }
  }
}

/** The send_message lines of the log's last few MB, oldest first; unreadable lines are skipped. */
export function readRecentSendLines(path: string): SendLine[] {
  let text: string;
  try {
    const fd = openSync(path, "r");
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, RECOVERY_TAIL_BYTES);
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, size - length);
      text = buffer.toString("utf8");
      // A cut through the first line: drop that partial line.
      if (length < size) text = text.slice(text.indexOf("\n") + 1);
    } finally {
      closeSync(fd);
    }
  } catch {
    return [];
  }
  const lines: SendLine[] = [];
  for (const raw of text.split("\n")) {
    if (!raw.includes('"send_message"')) continue;
    try {
      const entry = JSON.parse(raw) as Record<string, unknown>;
      if (entry.kind === "send_message") lines.push(entry as SendLine);
    } catch {
      // A torn or hand-edited line: not ours to judge here.
    }
  }
  return lines;
}

/**
 * Appends an `interrupted` line for every send written ahead (`sending`) by a process that is gone without
 * writing its outcome: the message may or may not have been delivered. Returns how many were found.
 * Called when a server starts; sends of processes still running are theirs to finish.
 */
export function recoverInterruptedSends(log: AuditLog): number {
  const open = new Map<string, SendLine>();
  for (const line of readRecentSendLines(log.path)) {
    if (!line.attempt) continue;
    if (line.phase === "sending") open.set(line.attempt, line);
    else open.delete(line.attempt);
  }
  let recovered = 0;
  for (const [attempt, line] of open) {
    if (typeof line.pid === "number" && line.pid !== process.pid && processIsAlive(line.pid)) continue;
    if (line.pid === process.pid) continue;
    log.record(
      {
        kind: "send_message",
        phase: "interrupted",
        attempt,
        pid: line.pid,
        target: line.target ?? "",
        ok: null,
        error:
          "The server stopped while this was being sent: it may or may not have been delivered. " +
          "Check the conversation in Messages.",
        text: "",
        ...(line.via === "send_message" || line.via === "schedule" ? { via: line.via } : {}),
        ...(line.clientId ? { clientId: line.clientId } : {}),
      },
      { durable: true },
    );
    recovered++;
  }
  return recovered;
}
