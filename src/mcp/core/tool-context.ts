// One tool call's view of the stores, with per-call name caches.
import { type ContactsStore, defaultRegion, handleKey } from "../../contacts/index.js";
import type { Chat, Handle, Message, MessagesReader } from "../../messages/types.js";
import type { MessageSender } from "../../send/index.js";
import { resolveTimeZone } from "../../util/dates.js";
import { type ChatRef, chatTitle, type MessageView, messageView, type NameLookup } from "../format.js";
import type { ServerDeps } from "./server-deps.js";

/** One tool call's view of the stores, with small caches so a page of messages resolves each name once. */
export class ToolContext {
  readonly messages: MessagesReader;
  readonly contacts: ContactsStore;
  readonly sender: MessageSender | null;
  readonly demo: boolean;
  /** The IANA zone dates are read and written in: the call's `timezone` argument, else the Mac's own. */
  readonly timeZone: string;
  readonly #names = new Map<string, string | null>();
  readonly #chats = new Map<number, Chat | null>();
  readonly #chatRefs = new Map<number, ChatRef | null>();
  #handles: Handle[] | undefined;

  /** `timeZone`: the call's `timezone` argument as given (checked here: an unknown zone is refused). */
  constructor(deps: ServerDeps, options: { timeZone?: string | undefined } = {}) {
    this.messages = deps.messages;
    this.contacts = deps.contacts;
    this.sender = deps.sender;
    this.demo = deps.demo ?? false;
    this.timeZone = resolveTimeZone(options.timeZone);
  }

  readonly nameFor: NameLookup = (handleId) => {
    if (!this.#names.has(handleId)) this.#names.set(handleId, this.contacts.displayNameFor(handleId));
    return this.#names.get(handleId) ?? null;
  };

  chat(rowid: number): Chat | null {
    if (!this.#chats.has(rowid)) this.#chats.set(rowid, this.messages.getChat(rowid));
    return this.#chats.get(rowid) ?? null;
  }

  /** A chat the call has already read (a listing): its messages' chat refs then need no read of their own. */
  knowChat(chat: Chat): void {
    this.#chats.set(chat.rowid, chat);
  }

  chatRef(rowid: number | null): ChatRef | null {
    if (rowid === null) return null;
    if (!this.#chatRefs.has(rowid)) {
      const chat = this.chat(rowid);
      this.#chatRefs.set(
        rowid,
        chat ? { id: chat.rowid, name: chatTitle(chat, this.nameFor), isGroup: chat.isGroup } : null,
      );
    }
    const ref = this.#chatRefs.get(rowid) ?? null;
    // A copy each time: callers hand views on, and a page's messages must not share one mutable object.
    return ref ? { ...ref } : null;
  }

  /** A message as tools return it, with its sender's name and its chat, its dates in the call's zone. */
  messageView(message: Message): MessageView {
    return messageView(message, this.nameFor, this.chatRef(message.chatRowid), this.timeZone);
  }

  handles(): Handle[] {
    this.#handles ??= this.messages.listHandles();
    return this.#handles;
  }

  /** chat.db handles (on any service) whose id means the same phone/email as one of `ids`. */
  handlesMatching(ids: readonly string[]): Handle[] {
    // The region once, not per handle (it reads the environment).
    const region = defaultRegion();
    const keys = new Set(ids.map((id) => handleKey(id, region)));
    return this.handles().filter((h) => keys.has(handleKey(h.id, region)));
  }
}
