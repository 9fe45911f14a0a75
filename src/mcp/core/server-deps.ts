// What a server instance is built from: the stores, the sender and the optional parts it runs with.
import type { ContactsStore } from "../../contacts/index.js";
import type { MessagesReader } from "../../messages/types.js";
import type { MessageSender } from "../../send/index.js";
import type { MessageScheduler } from "../../send/scheduler.js";

export interface ServerDeps {
  messages: MessagesReader;
  contacts: ContactsStore;
  /** null = read-only: the send tool is not registered at all. */
  sender: MessageSender | null;
  /** Serving generated demo data (said in the server instructions and check_setup). */
  demo?: boolean;
  /** The process's one scheduler; the schedule tools are registered only with it (and a sender). */
  scheduler?: MessageScheduler | null;
  /** Resource subscriptions for chat transcripts (default on); off for servers rebuilt per request. */
  subscriptions?: boolean;
  /** The OAuth client making the calls, in remote mode; the sender records it with sends in the audit log. */
  clientId?: string;
  /** How often wait_for_new_messages checks chat.db (default once a second); tests use a short interval. */
  waitPollIntervalMs?: number;
}
