// Opens what the server reads from, for stdio, remote and doctor alike: chat.db (or the demo data) behind
// the search index, Contacts, the sender and the scheduler. A chat.db that cannot be opened (no Full Disk
// Access yet) does not stop the server: every reading tool then answers with the fix, and check_setup
// explains it.

import { join } from "node:path";
import { AuditLog, auditLogPath, recoverInterruptedSends } from "../audit/index.js";
import { ConfigError, type DataSource, resolveDataSource, resolveStateDir } from "../config/index.js";
import { ContactsStore } from "../contacts/index.js";
import type { ServerDeps } from "../mcp/index.js";
import {
  IndexedMessagesReader,
  MessagesDbError,
  type MessagesReader,
  openMessagesStore,
  progressToStderr,
} from "../messages/index.js";
import { MessageSender } from "../send/index.js";
import { resolveTimeoutMs } from "../send/osascript.js";
import { MessageScheduler } from "../send/scheduler.js";
import { ensurePrivateDir } from "../util/secure-file.js";

export interface DataOptions {
  db?: string;
  contactsDir?: string | string[];
  readOnly?: boolean;
  demo?: boolean;
  /**
   * The state folder (index, scheduled messages, audit log, demo data), resolved once by the command that
   * runs (remote mode's --state-dir); default $MAC_MESSAGES_MCP_HOME or ~/.mac-messages-mcp.
   */
  stateDir?: string;
}

export interface OpenStoresOptions extends DataOptions {
  /**
   * Create the process's one MessageScheduler (not when read-only). Only the serving commands ask for it,
   * through `openServingStores`, which also starts it. Doctor does not, so it never touches scheduled.json.
   */
  withScheduler?: boolean;
}

export interface OpenedStores {
  deps: ServerDeps;
  source: DataSource;
  /** Path of the chat.db being served (demo or real). */
  chatDbPath: string;
  contactsRoots: string[];
  /** Things a person starting the server should know (demo data chosen, chat.db not readable). */
  notices: string[];
  /** Also in `deps.scheduler`; null when read-only, not asked for, or the state folder is unusable. */
  scheduler: MessageScheduler | null;
  /**
   * For a stop (stdin closed, SIGTERM, SIGINT): refuses new sends, waits for those already handed to osascript
   * to finish and be audited (as long as osascript may run), and records any still running then as
   * interrupted. Resolves with how many had to be recorded that way. Call it before `close()`.
   */
  drainSends(): Promise<number>;
  /** Stops the scheduler (waiting for a send in progress to be recorded) and closes chat.db. */
  close(): Promise<void>;
}

/** How long a stop waits for a send in flight: as long as osascript may run, and a little more. */
function shutdownGraceMs(): number {
  try {
    return resolveTimeoutMs(undefined) + 2000;
  } catch {
    return 32_000;
  }
}

/**
 * Stands in for chat.db when it could not be opened: every call fails with the same user-facing
 * MessagesDbError (which carries the fix), so tools report it instead of the server failing to start.
 */
export function unavailableMessages(error: MessagesDbError): MessagesReader {
  const fail = (): never => {
    throw error;
  };
  return {
    path: error.path,
    close: () => {},
    maxRowid: fail,
    listHandles: fail,
    getChat: fail,
    listChats: fail,
    chatsWithHandles: fail,
    getMessages: fail,
    getMessage: fail,
    searchMessages: fail,
    getAttachment: fail,
    searchAttachments: fail,
    serviceHistory: fail,
  };
}

const writeLine = (line: string) => process.stderr.write(`mac-messages-mcp: ${line}\n`);

/**
 * chat.db behind the side search index in the state folder. The index builds in the background on the
 * first search (progress on stderr); a state folder that cannot be written only means searches scan.
 */
function openReader(path: string, explicit: boolean, stateDir: string, notices: string[]): MessagesReader {
  let store: ReturnType<typeof openMessagesStore>;
  try {
    store = openMessagesStore(path, { explicit });
  } catch (error) {
    if (!(error instanceof MessagesDbError)) throw error;
    notices.push(
      `${error.message} Tools will report this until it is fixed (run \`mac-messages-mcp doctor\`).`,
    );
    return unavailableMessages(error);
  }
  return IndexedMessagesReader.open(store, {
    stateDir,
    onProgress: progressToStderr(writeLine),
    log: writeLine,
  });
}

/** The audit log of sends and created contacts in the state folder; failures to write it go to stderr, never fatal. */
function openAuditLog(stateDir: string, notices: string[]): AuditLog | null {
  try {
    const log = new AuditLog(auditLogPath(stateDir), {
      onError: writeLine,
    });
    // Sends written ahead by a server that was killed mid-send (kill -9, power cut) get their outcome now.
    const interrupted = recoverInterruptedSends(log);
    if (interrupted > 0) {
      notices.push(
        `${interrupted} send${interrupted === 1 ? " was" : "s were"} interrupted when the server last stopped ` +
          `and may or may not have been delivered; see ${log.path}.`,
      );
    }
    return log;
  } catch (error) {
    notices.push(`Audit log disabled: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
}

/** The scheduler, or null with a notice when its state folder cannot be used (sending still works). */
function openScheduler(sender: MessageSender, stateDir: string, notices: string[]): MessageScheduler | null {
  try {
    return new MessageScheduler({ stateDir, sender });
  } catch (error) {
    notices.push(
      `Scheduling messages is unavailable: ${error instanceof Error ? error.message : String(error)}`,
    );
    return null;
  }
}

/**
 * Starts checking for due scheduled messages; what the scheduler has to say about its file (e.g. a
 * corrupt one moved aside) goes to stderr once the first check has read it.
 */
function startScheduler(scheduler: MessageScheduler | null): void {
  if (!scheduler) return;
  scheduler.start();
  void scheduler.tick().then(() => {
    for (const notice of scheduler.notices) writeLine(notice);
  });
}

/** The stores of a serving command (stdio, remote): notices printed on stderr, the scheduler running. */
export async function openServingStores(options: DataOptions): Promise<OpenedStores> {
  const stores = await openStores({ ...options, withScheduler: true });
  for (const notice of stores.notices) writeLine(notice);
  startScheduler(stores.scheduler);
  return stores;
}

/** Throws ConfigError (one line for a person) for an explicit path that does not exist. */
export async function openStores(options: OpenStoresOptions = {}): Promise<OpenedStores> {
  const source = resolveDataSource({ db: options.db, contactsDir: options.contactsDir, demo: options.demo });
  const notices: string[] = [];
  const stateDir = options.stateDir ?? resolveStateDir();
  try {
    // Holds OAuth state, the audit log and the index: owner-only before anything lands in it.
    ensurePrivateDir(stateDir);
  } catch (error) {
    notices.push(`Cannot create the state folder: ${error instanceof Error ? error.message : String(error)}`);
  }
  let chatDbPath: string;
  let contactsRoots: string[];
  let messages: MessagesReader;
  if (source.kind === "demo") {
    if (source.notice) notices.push(source.notice);
    let demo: { chatDb: string; contactsRoot: string };
    try {
      // Loaded only when needed: the generator is a fair amount of code a real-data run never uses.
      const { ensureDemoData } = await import("../demo/index.js");
      // Kept in the state directory, so tests and users can point it elsewhere.
      // Regenerated when stale, so "2 hours ago" in the demo stays true.
      const demoDir = join(stateDir, "demo");
      const ensured = ensureDemoData({ dir: demoDir });
      if (ensured.generated) notices.push(`Generated fresh demo data in ${demoDir}.`);
      demo = ensured;
    } catch (error) {
      throw new ConfigError(
        `Could not prepare the demo data: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    chatDbPath = demo.chatDb;
    contactsRoots = source.contactsRoots ?? [demo.contactsRoot];
    messages = openReader(chatDbPath, true, stateDir, notices);
  } else {
    chatDbPath = source.chatDb;
    contactsRoots = source.contactsRoots;
    messages = openReader(chatDbPath, source.chatDbFrom !== "default", stateDir, notices);
  }
  // Read on first use: tools/list (a client's first request) needs no contact.
  const contacts = ContactsStore.openOnFirstUse({ roots: contactsRoots });
  // Audited at the sender, so sends from tools and from the scheduler alike are recorded.
  const sender = options.readOnly ? null : new MessageSender({ audit: openAuditLog(stateDir, notices) });
  const scheduler = sender && options.withScheduler ? openScheduler(sender, stateDir, notices) : null;
  return {
    deps: {
      messages,
      contacts,
      sender,
      scheduler,
      demo: source.kind === "demo",
    },
    source,
    chatDbPath,
    contactsRoots,
    notices,
    scheduler,
    drainSends: async () => (sender ? await sender.drain(shutdownGraceMs()) : 0),
    close: async () => {
      await scheduler?.stop();
      messages.close();
    },
  };
}
