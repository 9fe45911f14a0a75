// Append-only audit trail of what a person would want to check after the fact: every message sent (by
// send_message or a scheduled message), every contact created, and every OAuth grant, refresh and revocation. One JSON object per line, owner-only (0600), message text only
// when the owner opts in (otherwise its length and SHA-256, enough to match a message without storing it).
import { createHash } from "node:crypto";
import { closeSync, fchmodSync, fstatSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";

export const AUDIT_LOG_FILE = "audit.log";
export const AUDIT_TEXT_ENV = "MAC_MESSAGES_AUDIT_TEXT";

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
      /** The recipient as sent: handle (phone/email) or chat guid. */
      target: string;
      service?: string;
      ok: boolean;
      /** Short error description when ok is false. */
      error?: string;
      /** Only its length and hash are written unless text logging is switched on. */
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

export class AuditLog {
  readonly includeText: boolean;
  private readonly onError: (message: string) => void;
  private readonly now: () => Date;

  constructor(
    readonly path: string,
    options: AuditLogOptions = {},
  ) {
    this.includeText = options.includeText ?? (options.env ?? process.env)[AUDIT_TEXT_ENV] === "1";
    this.onError = options.onError ?? ((message) => process.stderr.write(`${message}\n`));
    this.now = options.now ?? (() => new Date());
  }

  /** The JSON object written for an event (exposed so the format is testable without a file). */
  entryFor(event: AuditEvent): Record<string, unknown> {
    const at = this.now().toISOString();
    if (event.kind !== "send_message") return { at, ...event };
    const { text, ...rest } = event;
    return {
      at,
      ...rest,
      textLength: text.length,
      textSha256: createHash("sha256").update(text).digest("hex"),
      ...(this.includeText ? { text } : {}),
    };
  }

  /**
   * Appends one line. Never throws: the message was already sent or the token already issued, so a
   * failing disk must not turn that into an error for the caller; it is reported through onError instead.
   */
  record(event: AuditEvent): void {
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
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      this.onError(`audit log: could not append to ${this.path}: ${(error as Error).message}`);
    }
  }
}
