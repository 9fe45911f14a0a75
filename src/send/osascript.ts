// The only place that starts osascript. Every send and every Contacts write goes through here.
//
// How user data reaches AppleScript: the program text is a fixed constant written to osascript's
// stdin; everything that came from a user (message text, recipients, paths, names) travels only as
// argv and is read in the script with `on run argv`. Nothing is ever spliced into the source, so
// quotes, `" & do shell script "…"`, `end run` and the like are just characters of a string.
//
// Why the argv looks like `osascript -- - arg1 arg2 …`:
// osascript parses its options with getopt(3): options (`-e`, `-l`, `-s`, `-i`) come first, then
// the program file, then the arguments for the run handler. BSD getopt stops at the first
// non-option, and a lone `-` is a non-option that means "read the program from stdin" (the man page
// says a stdin program that takes arguments must be named `-`). The leading `--` ends option parsing
// outright, so even a permuting getopt_long could not pick up a later `-e`, `--`, `-l JavaScript` or
// any other leading `-` as an option: after `--` every word is an operand. The first operand, `-`,
// is the program; the rest go to `on run argv` untouched. (`-e … -- args` would also work, but puts
// the program on the command line, visible to `ps`, and splits it by line.)
import { execFile } from "node:child_process";
import { UserFacingError } from "../util/user-facing-error.js";

export type AppleScriptErrorCode =
  | "not_macos"
  | "timeout"
  | "aborted"
  | "automation_denied"
  | "not_found"
  | "app_not_running"
  | "failed";

export class AppleScriptError extends UserFacingError {
  override readonly name = "AppleScriptError";
  readonly code: AppleScriptErrorCode;
  /** The AppleScript/OSA error number osascript reported (e.g. -1743), when there was one. */
  readonly osaErrorNumber: number | undefined;
  /** osascript's own message (stderr, trimmed), when there was one. */
  readonly detail: string | undefined;

  constructor(code: AppleScriptErrorCode, message: string, osaErrorNumber?: number, detail?: string) {
    super(message);
    this.code = code;
    this.osaErrorNumber = osaErrorNumber;
    this.detail = detail;
  }
}

export interface RunAppleScriptOptions {
  /** Kill osascript after this long. Default: MAC_MESSAGES_OSASCRIPT_TIMEOUT_MS, else 30 000. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Environment for osascript (PATH decides which osascript runs). Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface AppleScriptOutput {
  stdout: string;
  stderr: string;
}

export const DEFAULT_OSASCRIPT_TIMEOUT_MS = 30_000;
export const OSASCRIPT_TIMEOUT_ENV = "MAC_MESSAGES_OSASCRIPT_TIMEOUT_MS";

/** Output beyond this is a runaway script, not an answer; execFile fails rather than buffering on. */
const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

/** The argv for osascript: see the comment at the top of this file. */
export function osascriptArgv(args: readonly string[]): string[] {
  return ["--", "-", ...args];
}

/** Timeout from the explicit option, else the environment variable, else 30 s. */
export function resolveTimeoutMs(explicit: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  if (explicit !== undefined) {
    if (!Number.isInteger(explicit) || explicit <= 0) {
      throw new RangeError(
        `The osascript timeout must be a positive whole number of milliseconds, got ${explicit}.`,
      );
    }
    return explicit;
  }
  const raw = env[OSASCRIPT_TIMEOUT_ENV];
  if (raw === undefined || raw.trim() === "") return DEFAULT_OSASCRIPT_TIMEOUT_MS;
  const parsed = Number(raw.trim());
  if (!Number.isInteger(parsed) || parsed <= 0) {
    throw new RangeError(
      `${OSASCRIPT_TIMEOUT_ENV} must be a positive whole number of milliseconds, got ${JSON.stringify(raw)}.`,
    );
  }
  return parsed;
}

/** The error number osascript prints at the end of its message, e.g. `… (-1743)`. */
export function parseOsaErrorNumber(stderr: string): number | undefined {
  const match = /\((-?\d+)\)\s*$/.exec(stderr.trim());
  return match ? Number(match[1]) : undefined;
}

/** Turns a failed osascript run (non-zero exit) into an AppleScriptError with a plain-words message. */
export function classifyOsascriptFailure(stderr: string): AppleScriptError {
  const detail = stderr.trim();
  const number = parseOsaErrorNumber(detail);
  switch (number) {
    case -1743:
      return new AppleScriptError(
        "automation_denied",
        "macOS did not allow this program to control Messages/Contacts. Open System Settings → Privacy & Security → " +
          "Automation, find the app that runs this server (Terminal, iTerm, Claude, node…), and switch on Messages " +
          "(and Contacts for creating contacts). Then try again.",
        number,
        detail,
      );
    case -1728:
      return new AppleScriptError(
        "not_found",
        `Messages could not find that recipient or chat. (${detail || "error -1728"})`,
        number,
        detail,
      );
    case -600:
    case -609:
      return new AppleScriptError(
        "app_not_running",
        `The app is not running or stopped answering (error ${number}). Open Messages (or Contacts), make sure you ` +
          "are signed in, and try again.",
        number,
        detail,
      );
    default:
      return new AppleScriptError(
        "failed",
        detail ? `AppleScript failed: ${detail}` : "AppleScript failed without saying why.",
        number,
        detail || undefined,
      );
  }
}

function spawnErrorCode(error: unknown): string | number | undefined {
  return (error as { code?: string | number } | null)?.code;
}

/**
 * Runs a fixed AppleScript program with user data as `argv` (never inside the program text).
 * Resolves with osascript's output on exit code 0; otherwise rejects with an AppleScriptError.
 */
export function runAppleScript(
  script: string,
  args: string[],
  options: RunAppleScriptOptions = {},
): Promise<AppleScriptOutput> {
  let timeoutMs: number;
  try {
    timeoutMs = resolveTimeoutMs(options.timeoutMs, options.env ?? process.env);
  } catch (error) {
    return Promise.reject(error);
  }
  for (const arg of args) {
    // execve cannot carry NUL; say so plainly instead of Node's ERR_INVALID_ARG_VALUE.
    if (arg.includes("\0")) {
      return Promise.reject(
        new AppleScriptError(
          "failed",
          "An argument contains a NUL character, which cannot be passed to osascript.",
        ),
      );
    }
  }

  return new Promise((resolve, reject) => {
    const child = execFile(
      "osascript",
      osascriptArgv(args),
      {
        env: options.env ?? process.env,
        timeout: timeoutMs,
        // osascript keeps no state worth flushing; make sure a hung Apple event cannot outlive us.
        killSignal: "SIGKILL",
        signal: options.signal,
        maxBuffer: MAX_OUTPUT_BYTES,
        encoding: "utf8",
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ stdout, stderr });
          return;
        }
        const code = spawnErrorCode(error);
        if (code === "ENOENT") {
          reject(
            new AppleScriptError(
              "not_macos",
              "Sending needs macOS: the osascript program was not found on this computer. Reading messages works " +
                "elsewhere, but sending and creating contacts only work on the Mac that runs Messages.",
            ),
          );
        } else if (code === "ABORT_ERR" || options.signal?.aborted) {
          reject(new AppleScriptError("aborted", "The AppleScript run was cancelled."));
        } else if ((error as { killed?: boolean }).killed) {
          reject(
            new AppleScriptError(
              "timeout",
              `osascript did not finish within ${timeoutMs} ms and was stopped. Messages may be busy or waiting for a ` +
                `permission prompt on the Mac; check the screen there, or raise ${OSASCRIPT_TIMEOUT_ENV}.`,
            ),
          );
        } else if (code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER") {
          reject(
            new AppleScriptError(
              "failed",
              "osascript printed far more output than expected and was stopped.",
            ),
          );
        } else if (typeof code === "number") {
          reject(classifyOsascriptFailure(stderr));
        } else {
          reject(new AppleScriptError("failed", `Could not run osascript: ${(error as Error).message}`));
        }
      },
    );
    // If osascript dies before reading its program, the write fails with EPIPE; the exit status
    // (reported through the callback above) is the error worth telling the caller about.
    child.stdin?.on("error", () => {});
    child.stdin?.end(script, "utf8");
  });
}
