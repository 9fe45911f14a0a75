// Where the data lives: chat.db, the Contacts stores and this program's own state directory.
// Pure resolution (flags > environment > macOS defaults) plus the one decision about demo data.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { UserFacingError } from "../util/user-facing-error.js";

export const DB_ENV = "MAC_MESSAGES_DB";
export const CONTACTS_DIR_ENV = "MAC_MESSAGES_CONTACTS_DIR";
export const HOME_ENV = "MAC_MESSAGES_MCP_HOME";
export const ALLOWED_ATTACHMENT_DIRS_ENV = "MAC_MESSAGES_ALLOWED_ATTACHMENT_DIRS";

export interface PathInputs {
  /** `--db` */
  db?: string;
  /** `--contacts-dir` (may be given several times) */
  contactsDir?: string | string[];
  /** `--demo` */
  demo?: boolean;
  env?: NodeJS.ProcessEnv;
  home?: string;
  /** Override for tests: whether a file exists. */
  exists?: (path: string) => boolean;
}

export type DataSource =
  | {
      kind: "real";
      chatDb: string;
      /** Where the path came from, for diagnostics ("--db", "MAC_MESSAGES_DB", "default"). */
      chatDbFrom: "--db" | typeof DB_ENV | "default";
      contactsRoots: string[];
    }
  | {
      kind: "demo";
      /** Why demo data is served: asked for, or there is no Messages database here. */
      reason: "requested" | "no_default_db";
      /** The stderr notice to show when demo data was chosen automatically. */
      notice: string | null;
      /** Explicit contacts roots still win over the demo address book when given. */
      contactsRoots: string[] | null;
    };

export class ConfigError extends UserFacingError {
  override readonly name = "ConfigError";
}

/** Expands a leading `~` and makes the path absolute, so messages and diagnostics show real paths. */
export function expandPath(path: string, home: string = homedir()): string {
  const trimmed = path.trim();
  if (trimmed === "~") return home;
  if (trimmed.startsWith("~/")) return join(home, trimmed.slice(2));
  return isAbsolute(trimmed) ? trimmed : resolve(trimmed);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== "" ? value : undefined;
}

export function defaultChatDbPath(home: string = homedir()): string {
  return join(home, "Library", "Messages", "chat.db");
}

export function defaultContactsRoot(home: string = homedir()): string {
  return join(home, "Library", "Application Support", "AddressBook");
}

/** `--db` > MAC_MESSAGES_DB > ~/Library/Messages/chat.db */
export function resolveChatDbPath(inputs: PathInputs = {}): {
  path: string;
  from: "--db" | typeof DB_ENV | "default";
} {
  const env = inputs.env ?? process.env;
  const home = inputs.home ?? homedir();
  const flag = nonEmpty(inputs.db);
  if (flag !== undefined) return { path: expandPath(flag, home), from: "--db" };
  const fromEnv = nonEmpty(env[DB_ENV]);
  if (fromEnv !== undefined) return { path: expandPath(fromEnv, home), from: DB_ENV };
  return { path: defaultChatDbPath(home), from: "default" };
}

/**
 * `--contacts-dir` > MAC_MESSAGES_CONTACTS_DIR (several separated by the path delimiter ":") >
 * ~/Library/Application Support/AddressBook.
 */
export function resolveContactsRoots(inputs: PathInputs = {}): { roots: string[]; explicit: boolean } {
  const env = inputs.env ?? process.env;
  const home = inputs.home ?? homedir();
  const flags = (Array.isArray(inputs.contactsDir) ? inputs.contactsDir : [inputs.contactsDir]).filter(
    (value): value is string => nonEmpty(value) !== undefined,
  );
  if (flags.length > 0) return { roots: flags.map((dir) => expandPath(dir, home)), explicit: true };
  const fromEnv = nonEmpty(env[CONTACTS_DIR_ENV]);
  if (fromEnv !== undefined) {
    const roots = fromEnv.split(":").filter((dir) => dir.trim() !== "");
    return { roots: roots.map((dir) => expandPath(dir, home)), explicit: true };
  }
  return { roots: [defaultContactsRoot(home)], explicit: false };
}

/** MAC_MESSAGES_MCP_HOME > ~/.mac-messages-mcp: where tokens, keys and demo data are kept. */
export function resolveStateDir(inputs: Pick<PathInputs, "env" | "home"> = {}): string {
  const env = inputs.env ?? process.env;
  const home = inputs.home ?? homedir();
  const fromEnv = nonEmpty(env[HOME_ENV]);
  return fromEnv !== undefined ? expandPath(fromEnv, home) : join(home, ".mac-messages-mcp");
}

export function demoNotice(defaultPath: string): string {
  return (
    `No Messages database at ${defaultPath}; serving the built-in demo data. ` +
    "Use --db or run on a Mac with Full Disk Access."
  );
}

/**
 * Real data or demo data? `--demo` always means demo. With no `--db` and no MAC_MESSAGES_DB, a missing
 * default chat.db means demo (with a notice). An explicit path that does not exist is a ConfigError:
 * someone who names a file wants that file, and silently serving made-up messages would mislead them.
 */
export function resolveDataSource(inputs: PathInputs = {}): DataSource {
  const exists = inputs.exists ?? existsSync;
  const contacts = resolveContactsRoots(inputs);
  if (inputs.demo) {
    return {
      kind: "demo",
      reason: "requested",
      notice: null,
      contactsRoots: contacts.explicit ? contacts.roots : null,
    };
  }
  const chatDb = resolveChatDbPath(inputs);
  if (!exists(chatDb.path)) {
    if (chatDb.from !== "default") {
      throw new ConfigError(
        `No Messages database at ${chatDb.path} (from ${chatDb.from}). Check the path, or use --demo for demo data.`,
      );
    }
    return {
      kind: "demo",
      reason: "no_default_db",
      notice: demoNotice(chatDb.path),
      contactsRoots: contacts.explicit ? contacts.roots : null,
    };
  }
  return { kind: "real", chatDb: chatDb.path, chatDbFrom: chatDb.from, contactsRoots: contacts.roots };
}

/**
 * Folders send_message may send files from: MAC_MESSAGES_ALLOWED_ATTACHMENT_DIRS (":"-separated, replaces
 * the defaults) or ~/Downloads, ~/Desktop, ~/Documents, ~/Pictures plus `messagesFolders` (the Messages
 * attachment folders). Relative entries are ignored: they would depend on where the server was started.
 */
export function resolveSendableDirs(
  messagesFolders: readonly string[],
  inputs: Pick<PathInputs, "env" | "home"> = {},
): string[] {
  const env = inputs.env ?? process.env;
  const home = inputs.home ?? homedir();
  const fromEnv = nonEmpty(env[ALLOWED_ATTACHMENT_DIRS_ENV]);
  if (fromEnv !== undefined) {
    return fromEnv
      .split(":")
      .map((dir) => dir.trim())
      .filter((dir) => dir === "~" || dir.startsWith("~/") || isAbsolute(dir))
      .map((dir) => expandPath(dir, home));
  }
  const personal = ["Downloads", "Desktop", "Documents", "Pictures"].map((dir) => join(home, dir));
  return [...personal, ...messagesFolders];
}
