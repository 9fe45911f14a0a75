import { join } from "node:path";
import { fileFingerprint, writeFileAtomic } from "../util/secure-file.js";

// Limits on owner-password guesses at the consent page. Hand-written rather than a rate-limit package:
// the rule here is not "N requests per window" but "N *unsuccessful* checks", where an attempt must be
// counted before the (slow, async) scrypt check starts and un-counted only if it turns out right, and
// where the owner can clear a lock from another process (`auth unlock`). No package does that.

export interface ConsentGuardSettings {
  /** Wrong passwords one source address may try per window before it is locked out. */
  perSourceMax: number;
  /** Wrong passwords from all addresses together per window: the backstop against rotating addresses. */
  globalMax: number;
  windowMs: number;
  nowMs: () => number;
  /** File whose change (written by `auth unlock`) clears every lock; checked with one stat per attempt. */
  unlockFile?: string;
}

export type AttemptStart =
  | { ok: true; attempt: PasswordAttempt }
  | { ok: false; retryAfterSeconds: number; scope: "source" | "global" };

export interface PasswordAttempt {
  /** Runs the check once every earlier attempt finished, so checks never overlap. */
  verify(check: () => Promise<boolean>): Promise<boolean>;
}

export class ConsentGuard {
  /** Times of attempts that failed or are still being checked, per source address. */
  private readonly bySource = new Map<string, number[]>();
  private global: number[] = [];
  /** Tail of the queue of checks: each attempt waits for the one before it. */
  private queue: Promise<unknown> = Promise.resolve();
  private unlockFingerprint: string | undefined;

  constructor(private readonly settings: ConsentGuardSettings) {
    if (settings.unlockFile) this.unlockFingerprint = fileFingerprint(settings.unlockFile);
  }

  private prune(times: number[]): number[] {
    const since = this.settings.nowMs() - this.settings.windowMs;
    let first = 0;
    while (first < times.length && times[first]! <= since) first++;
    return first === 0 ? times : times.slice(first);
  }

  private retryAfter(times: number[]): number {
    return Math.max(1, Math.ceil((times[0]! + this.settings.windowMs - this.settings.nowMs()) / 1000));
  }

  /** `auth unlock` replaced the unlock file since we last looked: forget every counted failure. */
  private checkUnlock(): void {
    if (!this.settings.unlockFile) return;
    const current = fileFingerprint(this.settings.unlockFile);
    if (current !== this.unlockFingerprint) {
      this.unlockFingerprint = current;
      if (current !== undefined) this.clear();
    }
  }

  clear(): void {
    this.bySource.clear();
    this.global = [];
  }

  /**
   * Counts the attempt *before* anything is awaited: concurrent requests see each other's attempts, so no
   * more than the limit can ever reach the password check, however many arrive at once.
   */
  begin(source: string): AttemptStart {
    this.checkUnlock();
    this.global = this.prune(this.global);
    const mine = this.prune(this.bySource.get(source) ?? []);
    if (mine.length >= this.settings.perSourceMax) {
      this.bySource.set(source, mine);
      return { ok: false, retryAfterSeconds: this.retryAfter(mine), scope: "source" };
    }
    if (this.global.length >= this.settings.globalMax) {
      return { ok: false, retryAfterSeconds: this.retryAfter(this.global), scope: "global" };
    }
    const at = this.settings.nowMs();
    mine.push(at);
    this.bySource.set(source, mine);
    this.global.push(at);
    this.forgetIdleSources();
    return {
      ok: true,
      attempt: {
        verify: (check) => {
          const run = this.queue.then(check, check);
          this.queue = run.catch(() => undefined);
          return run.then((valid) => {
            // Right password: this attempt was not a failure, and the owner's earlier typos from here
            // no longer count either (other addresses keep theirs).
            if (valid) {
              this.bySource.delete(source);
              const index = this.global.indexOf(at);
              if (index >= 0) this.global.splice(index, 1);
            }
            return valid;
          });
        },
      },
    };
  }

  /** Keeps the per-address map bounded: addresses whose attempts all left the window are dropped. */
  private forgetIdleSources(): void {
    if (this.bySource.size < 1024) return;
    for (const [source, times] of this.bySource) {
      const live = this.prune(times);
      if (live.length === 0) this.bySource.delete(source);
      else this.bySource.set(source, live);
    }
  }
}

/** The file `auth unlock` rewrites; a running server notices the change and lifts every lock. */
export function consentUnlockPath(stateDir: string): string {
  return join(stateDir, "consent_unlock");
}

/** What `auth unlock` does: tells running servers (by file change) to forget counted wrong passwords. */
export function requestConsentUnlock(stateDir: string): void {
  writeFileAtomic(consentUnlockPath(stateDir), `${new Date().toISOString()}\n`);
}
