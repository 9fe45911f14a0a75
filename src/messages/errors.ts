import { FULL_DISK_ACCESS_FIX } from "../util/macos-permissions.js";
import { UserFacingError } from "../util/user-facing-error.js";
// Opening chat.db fails in a handful of ways a user can fix; each gets one actionable message.

export type MessagesDbErrorCode = "not_found" | "permission_denied" | "not_messages_db" | "unreadable";

export class MessagesDbError extends UserFacingError {
  override readonly name = "MessagesDbError";
  constructor(
    readonly code: MessagesDbErrorCode,
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

export function notFoundError(path: string, explicit: boolean): MessagesDbError {
  const hint = explicit
    ? "Check the --db path / MAC_MESSAGES_DB."
    : "Messages keeps it at ~/Library/Messages/chat.db on a Mac; elsewhere run with --demo or pass --db.";
  return new MessagesDbError("not_found", `No Messages database at ${path}. ${hint}`, path);
}

export function permissionDeniedError(path: string): MessagesDbError {
  return new MessagesDbError(
    "permission_denied",
    `Permission denied reading ${path}: macOS protects the Messages database. ${FULL_DISK_ACCESS_FIX}`,
    path,
  );
}

export function notMessagesDbError(path: string, detail: string): MessagesDbError {
  return new MessagesDbError(
    "not_messages_db",
    `${path} is not a Messages database (${detail}). Point --db at ~/Library/Messages/chat.db or a copy of it.`,
    path,
  );
}

/**
 * Maps what the OS or SQLite said when opening the file to one of the user-facing errors.
 * Pure, so each branch is testable without a Mac (TCC denials surface as EPERM, or as
 * SQLITE_CANTOPEN / SQLITE_AUTH when SQLite itself is refused).
 */
export function classifyOpenError(path: string, error: unknown): MessagesDbError {
  const code = (error as { code?: unknown } | null)?.code;
  const text = error instanceof Error ? error.message : String(error);
  if (code === "ENOENT") return notFoundError(path, true);
  if (code === "EPERM" || code === "EACCES" || code === "SQLITE_CANTOPEN" || code === "SQLITE_AUTH") {
    return permissionDeniedError(path);
  }
  if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
    return notMessagesDbError(path, "the file is not a valid SQLite database");
  }
  if (code === "EISDIR") return notMessagesDbError(path, "it is a directory");
  if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") {
    return new MessagesDbError(
      "unreadable",
      `The Messages database ${path} is locked by another process (Messages may be busy writing to it). Try again in a moment.`,
      path,
    );
  }
  return new MessagesDbError("unreadable", `Could not read ${path}: ${text}`, path);
}
