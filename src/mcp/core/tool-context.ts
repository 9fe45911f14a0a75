// One tool call's view of the stores, with per-call name caches.
import { type ContactsStore, type CountryCode, defaultRegion, handleKey } from "../../contacts/index.js";
import type { Chat, Handle, Message, MessagesReader } from "../../messages/types.js";
import type { MessageSender } from "../../send/index.js";
import { resolveTimeZone } from "../../util/dates.js";
import { type ChatRef, chatTitle, type MessageView, messageView, type NameLookup } from "../format.js";
import type { ServerDeps } from "./server-deps.js";

/**
 * chat.db's handles by phone/email key (handleKey), as positions in the handle list, per list and region.
 * The store hands out one list per read of the handle table (it reads it again when chat.db's data_version
 * changes), so an index keyed on the list is never stale; a reader that builds a new list per call only
 * makes the index be built per call. Without it, every call naming a contact compared each handle's key
 * (305 at the 1M demo: ~0.5M instructions a call while the process is new, ~0.3M warm).
 */
const handleIndexes = new WeakMap<readonly Handle[], { region: CountryCode; byKey: Map<string, number[]> }>();

function handleIndex(handles: readonly Handle[], region: CountryCode): Map<string, number[]> {
  const known = handleIndexes.get(handles);
  if (known?.region === region) return known.byKey;
  const byKey = new Map<string, number[]>();
  handles.forEach((handle, position) => {
    const key = handleKey(handle.id, region);
    const positions = byKey.get(key);
    if (positions) positions.push(position);
    else byKey.set(key, [position]);
  });
  handleIndexes.set(handles, { region, byKey });
  return byKey;
}

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
  #handles: readonly Handle[] | undefined;

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

  handles(): readonly Handle[] {
    this.#handles ??= this.messages.listHandles();
    return this.#handles;
  }

  /** chat.db handles (on any service) whose id means the same phone/email as one of `ids`, in list order. */
  handlesMatching(ids: readonly string[]): Handle[] {
    const region = defaultRegion();
    const handles = this.handles();
    const byKey = handleIndex(handles, region);
    // Each handle has one key, so distinct keys give distinct positions.
    const keys = new Set(ids.map((id) => handleKey(id, region)));
    const positions = [...keys].flatMap((key) => byKey.get(key) ?? []);
    return positions.sort((a, b) => a - b).map((position) => handles[position] as Handle);
  }
}
