// Opens what the server reads from, for stdio, remote and doctor alike: chat.db (or the demo data),
// Contacts and the sender. A chat.db that cannot be opened (no Full Disk Access yet) does not stop the
// server: every reading tool then answers with the fix, and check_setup explains it.
import { join } from "node:path";
import { ConfigError, type DataSource, resolveDataSource, resolveStateDir } from "../config/index.js";
import { ContactsStore } from "../contacts/index.js";
import type { ServerDeps } from "../mcp/index.js";
import { MessagesDbError, type MessagesReader, openMessagesStore } from "../messages/index.js";
import { MessageSender } from "../send/index.js";

export interface DataOptions {
  db?: string;
  contactsDir?: string | string[];
  readOnly?: boolean;
  demo?: boolean;
}

export interface OpenedStores {
  deps: ServerDeps;
  source: DataSource;
  /** Path of the chat.db being served (demo or real). */
  chatDbPath: string;
  contactsRoots: string[];
  /** Things a person starting the server should know (demo data chosen, chat.db not readable). */
  notices: string[];
  close(): void;
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

function openReader(path: string, explicit: boolean, notices: string[]): MessagesReader {
  try {
    return openMessagesStore(path, { explicit });
  } catch (error) {
    if (!(error instanceof MessagesDbError)) throw error;
    notices.push(
      `${error.message} Tools will report this until it is fixed (run \`mac-messages-mcp doctor\`).`,
    );
    return unavailableMessages(error);
  }
}

/** Throws ConfigError (one line for a person) for an explicit path that does not exist. */
export async function openStores(options: DataOptions = {}): Promise<OpenedStores> {
  const source = resolveDataSource({ db: options.db, contactsDir: options.contactsDir, demo: options.demo });
  const notices: string[] = [];
  let chatDbPath: string;
  let contactsRoots: string[];
  let messages: MessagesReader;
  if (source.kind === "demo") {
    if (source.notice) notices.push(source.notice);
    let demo: { chatDb: string; contactsRoot: string };
    try {
      // Loaded only when needed: the generator is a fair amount of code a real-data run never uses.
      const { ensureDemoData } = await import("../demo/index.js");
      // Kept in the state directory (MAC_MESSAGES_MCP_HOME), so tests and users can point it elsewhere.
      demo = ensureDemoData({ dir: join(resolveStateDir(), "demo") });
    } catch (error) {
      throw new ConfigError(
        `Could not prepare the demo data: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    chatDbPath = demo.chatDb;
    contactsRoots = source.contactsRoots ?? [demo.contactsRoot];
    messages = openReader(chatDbPath, true, notices);
  } else {
    chatDbPath = source.chatDb;
    contactsRoots = source.contactsRoots;
    messages = openReader(chatDbPath, source.chatDbFrom !== "default", notices);
  }
  const contacts = ContactsStore.open({ roots: contactsRoots });
  const sender = options.readOnly ? null : new MessageSender();
  return {
    deps: { messages, contacts, sender, demo: source.kind === "demo" },
    source,
    chatDbPath,
    contactsRoots,
    notices,
    close: () => messages.close(),
  };
}
