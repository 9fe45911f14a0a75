// Resource subscriptions for chat transcripts: a client subscribes to `messages://chat/{chat}` (the
// template in resources.ts) and gets `notifications/resources/updated` when a new message lands there.
// chat.db has no change feed we may use, so this polls MAX(ROWID) and looks closer only when it moved.

import type { McpServer } from "@modelcontextprotocol/server";
import { ProtocolError, ProtocolErrorCode } from "@modelcontextprotocol/server";
import { ContactsStore } from "../contacts/index.js";
import type { MessagesReader } from "../messages/types.js";
import { resolveChat } from "./core/resolve-references.js";
import { ToolContext } from "./core/tool-context.js";
import { describeError } from "./core/tool-result.js";
import { decodeVariable } from "./resources.js";

export const CHAT_URI_PREFIX = "messages://chat/";
export const DEFAULT_SUBSCRIPTION_INTERVAL_MS = 2000;

interface Subscription {
  chatRowid: number;
  /** Newest message of the chat already announced. */
  lastRowid: number;
}

export interface ChatSubscriptionOptions {
  intervalMs?: number;
  /** Lets `messages://chat/Alice` resolve by a contact's name; without it ids, guids and group names work. */
  contacts?: ContactsStore;
}

/** Watches subscribed chats and tells the client when one has new messages. */
export class ChatUpdateNotifier {
  readonly #server: McpServer;
  readonly #messages: MessagesReader;
  readonly #contacts: ContactsStore;
  readonly #intervalMs: number;
  readonly #subscriptions = new Map<string, Subscription>();
  #timer: NodeJS.Timeout | undefined;
  #watermark = 0;
  #polling = false;

  constructor(server: McpServer, messages: MessagesReader, options: ChatSubscriptionOptions = {}) {
    this.#server = server;
    this.#intervalMs = options.intervalMs ?? DEFAULT_SUBSCRIPTION_INTERVAL_MS;
    this.#messages = messages;
    this.#contacts = options.contacts ?? ContactsStore.empty("not needed to watch chats");
  }

  /** Subscribed URIs, as the client gave them. */
  get uris(): string[] {
    return [...this.#subscriptions.keys()];
  }

  /** Starts watching the chat a `messages://chat/{chat}` URI names; an unknown chat is an McpError. */
  subscribe(uri: string): void {
    if (!uri.startsWith(CHAT_URI_PREFIX) || uri.length === CHAT_URI_PREFIX.length) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Only chat transcripts can be subscribed to: ${CHAT_URI_PREFIX}{chat}, e.g. ${CHAT_URI_PREFIX}12.`,
      );
    }
    let chatRowid: number;
    let lastRowid: number;
    try {
      // A fresh context per request, as for a tool call: its caches must not outlive the request.
      const context = new ToolContext({ messages: this.#messages, contacts: this.#contacts, sender: null });
      chatRowid = resolveChat(context, decodeVariable(uri.slice(CHAT_URI_PREFIX.length))).rowid;
      lastRowid = this.#newestIn(chatRowid);
      if (this.#subscriptions.size === 0) this.#watermark = this.#messages.maxRowid();
    } catch (error) {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, describeError(error));
    }
    this.#subscriptions.set(uri, { chatRowid, lastRowid });
    this.#timer ??= setInterval(() => void this.poll(), this.#intervalMs);
    // A subscription alone must not keep a finished process alive.
    this.#timer.unref();
  }

  unsubscribe(uri: string): void {
    this.#subscriptions.delete(uri);
    if (this.#subscriptions.size === 0) this.#clearTimer();
  }

  stop(): void {
    this.#subscriptions.clear();
    this.#clearTimer();
  }

  /** One check (the timer calls this; exposed so tests need not wait for it). Returns the URIs notified. */
  async poll(): Promise<string[]> {
    if (this.#polling || this.#subscriptions.size === 0) return [];
    this.#polling = true;
    const notified: string[] = [];
    try {
      const latest = this.#messages.maxRowid();
      if (latest <= this.#watermark) return [];
      this.#watermark = latest;
      for (const [uri, subscription] of this.#subscriptions) {
        const newest = this.#newestIn(subscription.chatRowid);
        if (newest <= subscription.lastRowid) continue;
        subscription.lastRowid = newest;
        await this.#server.server.sendResourceUpdated({ uri });
        notified.push(uri);
      }
    } catch {
      // chat.db busy or the connection closing: the next tick tries again.
    } finally {
      this.#polling = false;
    }
    return notified;
  }

  #newestIn(chatRowid: number): number {
    return this.#messages.getMessages({ chatRowids: [chatRowid], limit: 1 })[0]?.rowid ?? 0;
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * Declares `resources.subscribe` and answers resources/subscribe and resources/unsubscribe for chat
 * transcripts. Call before `server.connect` (capabilities are fixed once connected). Polling stops when
 * the connection closes or `stop()` is called.
 */
export function enableChatSubscriptions(
  server: McpServer,
  messages: MessagesReader,
  options: ChatSubscriptionOptions = {},
): { notifier: ChatUpdateNotifier; stop: () => void } {
  server.server.registerCapabilities({ resources: { subscribe: true } });
  const notifier = new ChatUpdateNotifier(server, messages, options);
  server.server.setRequestHandler("resources/subscribe", (request) => {
    notifier.subscribe(request.params.uri);
    return {};
  });
  server.server.setRequestHandler("resources/unsubscribe", (request) => {
    notifier.unsubscribe(request.params.uri);
    return {};
  });
  const previousOnClose = server.server.onclose;
  server.server.onclose = () => {
    notifier.stop();
    previousOnClose?.();
  };
  return { notifier, stop: () => notifier.stop() };
}
