// Scheduled messages, kept in <stateDir>/scheduled.json so a restart loses nothing, and sent at most
// once: an entry is marked "sending" on disk before osascript runs, and one found in that state later
// is never sent again automatically. The file is the only source of truth: every change is a locked
// read-modify-write, so a stdio server and a remote server sharing the state folder cannot both send.
import { randomBytes } from "node:crypto";
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { moveAside, processIsAlive, writeFileAtomic } from "../util/secure-file.js";
import { UserFacingError } from "../util/user-facing-error.js";
import { type MessageSender, SendInputError, type SendTarget, validateText } from "./sender.js";

export const SCHEDULE_FILE = "scheduled.json";
/** Furthest ahead a message may be scheduled. */
export const MAX_SCHEDULE_AHEAD_MS = 366 * 24 * 3_600_000;
/** A message more overdue than this (the server was not running) is not sent late: its moment has passed. */
export const MAX_LATENESS_MS = 24 * 3_600_000;
/** Finished entries (sent, failed, cancelled, unknown) are kept this long for list_scheduled_messages. */
export const FINISHED_RETENTION_MS = 30 * 24 * 3_600_000;
export const DEFAULT_CHECK_INTERVAL_MS = 5000;
/** A lock file older than this belongs to a process that died mid-write. */
const STALE_LOCK_MS = 30_000;
const LOCK_WAIT_MS = 5000;
/** Far longer than osascript may run (30 s by default): a "sending" entry older than this was abandoned. */
const SENDING_TIMEOUT_MS = 10 * 60_000;

/** Every state a scheduled message can be in; "unknown": the server stopped while sending it. */
export const SCHEDULED_STATUSES = ["pending", "sending", "sent", "failed", "cancelled", "unknown"] as const;

const targetSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("handle"),
    handle: z.string(),
    preferService: z.enum(["iMessage", "SMS", "auto"]).optional(),
  }),
  z.object({ kind: z.literal("chat"), chatGuid: z.string() }),
]);

const entrySchema = z.object({
  id: z.string(),
  target: targetSchema,
  /** Who it goes to in words, as the person scheduling it saw it. */
  recipient: z.string(),
  text: z.string(),
  sendAt: z.string(),
  createdAt: z.string(),
  status: z.enum(SCHEDULED_STATUSES),
  updatedAt: z.string(),
  /** Which process was sending it (status "sending"), to tell a crashed sender from a live one. */
  sendingPid: z.number().int().nullable().default(null),
  sentAt: z.string().nullable().default(null),
  service: z.string().nullable().default(null),
  /** Why it failed, or why its outcome is unknown. */
  error: z.string().nullable().default(null),
  /** The OAuth client that scheduled it (remote mode), so the audit log names it when the send happens. */
  clientId: z.string().optional(),
});

const fileSchema = z.object({ version: z.literal(1), messages: z.array(entrySchema) });

export type ScheduledMessage = z.infer<typeof entrySchema>;

export interface MessageSchedulerOptions {
  /** Folder for scheduled.json (created 0700). */
  stateDir: string;
  sender: MessageSender;
  /** How often due messages are looked for once `start()` ran. */
  checkIntervalMs?: number;
  /** Clock, for tests. */
  now?: () => Date;
}

export interface ScheduleInput {
  target: SendTarget;
  text: string;
  sendAt: Date;
  /** Who it goes to in words; default the handle or chat guid. */
  recipient?: string;
  /** The OAuth client asking (remote mode); recorded with the send in the audit log. */
  clientId?: string;
}

/** The scheduled-messages file could not be used; the message says what happened to it. */
export class SchedulerStateError extends UserFacingError {
  override readonly name = "SchedulerStateError";
}

const UNKNOWN_OUTCOME =
  "The server stopped while sending this, so it may or may not have gone out. It is not resent " +
  "automatically, to avoid sending it twice: check the conversation in Messages and schedule it again if needed.";

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}

export class MessageScheduler {
  readonly path: string;
  readonly #lockPath: string;
  readonly #sender: MessageSender;
  readonly #checkIntervalMs: number;
  readonly #now: () => Date;
  /** Things the person running the server should know (a corrupt file moved aside). */
  readonly notices: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | null = null;
  /** Serialises this process's own read-modify-writes; the lock file serialises them across processes. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: MessageSchedulerOptions) {
    mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
    this.path = join(options.stateDir, SCHEDULE_FILE);
    this.#lockPath = `${this.path}.lock`;
    this.#sender = options.sender;
    this.#checkIntervalMs = options.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS;
    this.#now = options.now ?? (() => new Date());
  }

  async schedule(input: ScheduleInput): Promise<ScheduledMessage> {
    const text = validateText(input.text);
    const sendAt = input.sendAt;
    const now = this.#now();
    if (!(sendAt instanceof Date) || Number.isNaN(sendAt.getTime()))
      throw new SendInputError("The send time is not a valid date.");
    if (sendAt.getTime() <= now.getTime()) throw new SendInputError("The send time must be in the future.");
    if (sendAt.getTime() - now.getTime() > MAX_SCHEDULE_AHEAD_MS) {
      throw new SendInputError("The send time is more than a year ahead; schedule it closer to the date.");
    }
    const target = targetSchema.parse(input.target);
    const entry: ScheduledMessage = {
      id: `sch_${randomBytes(6).toString("hex")}`,
      target,
      recipient: input.recipient ?? (target.kind === "handle" ? target.handle : target.chatGuid),
      text,
      sendAt: sendAt.toISOString(),
      createdAt: now.toISOString(),
      status: "pending",
      updatedAt: now.toISOString(),
      sendingPid: null,
      sentAt: null,
      service: null,
      error: null,
      ...(input.clientId !== undefined ? { clientId: input.clientId } : {}),
    };
    await this.#mutate((entries) => {
      entries.push(entry);
    });
    return entry;
  }

  /** Every entry still kept, soonest first. */
  async list(): Promise<ScheduledMessage[]> {
    const entries = await this.#mutate(() => {});
    return entries.sort((a, b) => a.sendAt.localeCompare(b.sendAt));
  }

  /** Cancels a pending message; anything already sending or finished is a SendInputError saying so. */
  async cancel(id: string): Promise<ScheduledMessage> {
    let cancelled: ScheduledMessage | undefined;
    await this.#mutate((entries) => {
      const entry = entries.find((e) => e.id === id.trim());
      if (!entry)
        throw new SendInputError(
          `There is no scheduled message ${id}. Use list_scheduled_messages to see them.`,
        );
      if (entry.status !== "pending") {
        throw new SendInputError(`Scheduled message ${entry.id} cannot be cancelled: it is ${entry.status}.`);
      }
      entry.status = "cancelled";
      entry.updatedAt = this.#now().toISOString();
      cancelled = { ...entry };
    });
    if (!cancelled) throw new SendInputError(`There is no scheduled message ${id}.`);
    return cancelled;
  }

  /** Checks for due messages now and then every checkIntervalMs. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.tick(), this.#checkIntervalMs);
    this.#timer.unref();
    void this.tick();
  }

  /** Stops the timer and waits for a send in progress to be recorded. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#ticking;
  }

  /** Sends every due message once. Overlapping calls share one run. */
  tick(): Promise<void> {
    this.#ticking ??= this.#sendDue().finally(() => {
      this.#ticking = null;
    });
    return this.#ticking;
  }

  async #sendDue(): Promise<void> {
    for (;;) {
      // Claim one due entry at a time, on disk, before anything is sent.
      let claimed: ScheduledMessage | undefined;
      try {
        await this.#mutate((entries) => {
          const now = this.#now();
          const due = entries
            .filter((e) => e.status === "pending" && Date.parse(e.sendAt) <= now.getTime())
            .sort((a, b) => a.sendAt.localeCompare(b.sendAt));
          for (const entry of due) {
            entry.updatedAt = now.toISOString();
            if (now.getTime() - Date.parse(entry.sendAt) > MAX_LATENESS_MS) {
              entry.status = "failed";
              entry.error = "Not sent: its time passed more than a day ago while the server was not running.";
              continue;
            }
            entry.status = "sending";
            entry.sendingPid = process.pid;
            claimed = { ...entry };
            return;
          }
        });
      } catch {
        return; // The state file is unusable right now; notices say why, the next tick tries again.
      }
      if (!claimed) return;
      const id = claimed.id;
      let outcome: Pick<ScheduledMessage, "status" | "error" | "service" | "sentAt">;
      try {
        // The sender audits the attempt, as it does every send.
        const result = await this.#sender.sendText(claimed.target, claimed.text, {
          via: "schedule",
          clientId: claimed.clientId,
        });
        outcome = { status: "sent", error: null, service: result.service, sentAt: this.#now().toISOString() };
      } catch (error) {
        outcome = { status: "failed", error: firstLine(error), service: null, sentAt: null };
      }
      await this.#mutate((entries) => {
        const entry = entries.find((e) => e.id === id);
        if (!entry) return;
        Object.assign(entry, outcome, { sendingPid: null, updatedAt: this.#now().toISOString() });
      }).catch(() => {
        // Left as "sending" on disk: the next start-up reports it as unknown, never resends it.
      });
    }
  }

  // ---- the file --------------------------------------------------------------------------------------

  /** Locked read-modify-write of the file; returns the entries as written. */
  #mutate(change: (entries: ScheduledMessage[]) => void): Promise<ScheduledMessage[]> {
    const run = this.#queue.then(() => this.#withFileLock(() => this.#readModifyWrite(change)));
    this.#queue = run.catch(() => {});
    return run;
  }

  #readModifyWrite(change: (entries: ScheduledMessage[]) => void): ScheduledMessage[] {
    const entries = this.#read();
    const before = JSON.stringify(entries);
    this.#recoverInterruptedSends(entries);
    change(entries);
    const now = this.#now().getTime();
    const kept = entries.filter(
      (e) =>
        e.status === "pending" ||
        e.status === "sending" ||
        now - Date.parse(e.updatedAt) < FINISHED_RETENTION_MS,
    );
    if (JSON.stringify(kept) !== before) {
      writeFileAtomic(this.path, `${JSON.stringify({ version: 1, messages: kept }, null, 2)}\n`);
    }
    return kept.map((e) => ({ ...e }));
  }

  /**
   * An entry left "sending" by a process that is gone was possibly sent: osascript may have handed it to
   * Messages just before the crash. Resending could make a duplicate, which a person cannot take back,
   * while a missed message can simply be sent again; so it becomes "unknown" and is reported, not resent.
   */
  #recoverInterruptedSends(entries: ScheduledMessage[]): void {
    for (const entry of entries) {
      if (entry.status !== "sending") continue;
      const pid = entry.sendingPid;
      // A live sender (this process included) is left alone; the age limit covers a pid reused after a reboot.
      const recent = this.#now().getTime() - Date.parse(entry.updatedAt) < SENDING_TIMEOUT_MS;
      if (pid !== null && recent && processIsAlive(pid)) continue;
      entry.status = "unknown";
      entry.error = UNKNOWN_OUTCOME;
      entry.sendingPid = null;
      entry.updatedAt = this.#now().toISOString();
    }
  }

  #read(): ScheduledMessage[] {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new SchedulerStateError(`Cannot read the scheduled messages (${this.path}): ${firstLine(error)}`);
    }
    let parsed: z.infer<typeof fileSchema>;
    try {
      parsed = fileSchema.parse(JSON.parse(text));
    } catch {
      // Never drop what might be someone's scheduled messages: keep the file under another name and say so.
      const aside = moveAside(this.path, "corrupt");
      const message =
        `The scheduled messages file ${this.path} was damaged and has been moved to ${aside}; ` +
        "messages scheduled in it will not be sent. Look at that file and schedule them again.";
      this.notices.push(message);
      return [];
    }
    return parsed.messages;
  }

  /** A lock file created exclusively; a stale one (dead holder, or older than 30 s) is taken over. */
  async #withFileLock<T>(body: () => T): Promise<T> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const fd = openSync(this.#lockPath, "wx", 0o600);
        try {
          writeSync(fd, String(process.pid));
        } finally {
          closeSync(fd);
        }
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
          throw new SchedulerStateError(
            `Cannot lock the scheduled messages (${this.#lockPath}): ${firstLine(error)}`,
          );
        }
        if (this.#lockIsStale()) {
          rmSync(this.#lockPath, { force: true });
          continue;
        }
        if (Date.now() > deadline) {
          throw new SchedulerStateError(
            `The scheduled messages are locked by another process (${this.#lockPath}); try again in a moment.`,
          );
        }
        await sleep(25);
      }
    }
    try {
      return body();
    } finally {
      try {
        unlinkSync(this.#lockPath);
      } catch {
        // Already taken over as stale by another process.
      }
    }
  }

  #lockIsStale(): boolean {
    try {
      const holder = Number(readFileSync(this.#lockPath, "utf8"));
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && !processIsAlive(holder))
        return true;
      return Date.now() - statSync(this.#lockPath).mtimeMs > STALE_LOCK_MS;
    } catch {
      return false;
    }
  }
}
