// Resource templates: a chat's transcript (messages://chat/{chat}) and a person's messages across chats
// (messages://contact/{contact}), with completions for chat and contact names.

import type { McpServer } from "@modelcontextprotocol/server";
import { ProtocolError, ProtocolErrorCode, ResourceTemplate } from "@modelcontextprotocol/server";
import type { Chat, Message } from "../messages/types.js";
import { noHandlesNote, resolveChat, resolvePersonFilter } from "./core/resolve-references.js";
import type { ServerDeps } from "./core/server-deps.js";
import { ToolContext } from "./core/tool-context.js";
import { describeError, ToolInputError } from "./core/tool-result.js";
import { chatTitle, nameLine } from "./format.js";
import { renderMessagePage } from "./render-messages.js";

/** Messages per transcript: enough context for a summary, small enough for a model's context window. */
export const TRANSCRIPT_MESSAGES = 200;
const LISTED_CHATS = 50;
const MAX_COMPLETIONS = 20;

/** Template values arrive percent-encoded ("Weekend%20Crew"); a malformed escape is read literally. */
export function decodeVariable(value: string | string[] | undefined): string {
  const raw = Array.isArray(value) ? value.join(",") : (value ?? "");
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * Oldest-first transcript of `messages` (given newest first), fenced as third-party content, with the
 * `names` behind the refs in `header` at the top of the fence.
 */
export function transcript(
  ctx: ToolContext,
  header: string,
  messages: readonly Message[],
  names: readonly string[] = [],
  oneChat = false,
): string {
  return renderMessagePage({
    header,
    names,
    messages: [...messages].reverse().map((m) => ctx.messageView(m)),
    oneChat,
    emptyNote: "No messages.",
  });
}

/** "chat:3 Weekend Crew [group with Alice Smith, Bob Stone]": a chat's names, for inside a fence. */
export function chatNameLine(ctx: ToolContext, chat: Chat): string {
  const who = chat.participants.map((p) => ctx.nameFor(p.id) ?? p.id).join(", ");
  return nameLine(
    `chat:${chat.rowid}`,
    `${chatTitle(chat, ctx.nameFor)}${chat.isGroup ? ` [group with ${who}]` : ""}`,
  );
}

function readError(error: unknown): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidParams, describeError(error));
}

/** Suggestions that contain what was typed, those that start with it first. */
export function rankCompletions(candidates: Iterable<string>, typed: string): string[] {
  const wanted = typed.toLowerCase();
  const seen = new Set<string>();
  const starts: string[] = [];
  const contains: string[] = [];
  for (const candidate of candidates) {
    const lower = candidate.toLowerCase();
    if (seen.has(lower)) continue;
    seen.add(lower);
    if (lower.startsWith(wanted)) starts.push(candidate);
    else if (lower.includes(wanted)) contains.push(candidate);
  }
  return [...starts, ...contains].slice(0, MAX_COMPLETIONS);
}

export function registerResources(server: McpServer, deps: ServerDeps): void {
  server.registerResource(
    "chat-transcript",
    new ResourceTemplate("messages://chat/{chat}", {
      list: () => {
        const ctx = new ToolContext(deps);
        try {
          const chats = ctx.messages.listChats({ limit: LISTED_CHATS });
          return {
            resources: chats.map((chat) => ({
              uri: `messages://chat/${chat.rowid}`,
              name: chatTitle(chat, ctx.nameFor),
              description: `${chat.isGroup ? "Group chat" : "Chat"}, ${chat.messageCount} messages${chat.unreadCount ? `, ${chat.unreadCount} unread` : ""}`,
              mimeType: "text/plain",
            })),
          };
        } catch {
          // Without chat.db access there is nothing to list; check_setup explains why.
          return { resources: [] };
        }
      },
      complete: {
        chat: (value) => {
          const ctx = new ToolContext(deps);
          try {
            const chats = ctx.messages.listChats({ limit: 500, messageCounts: false });
            return rankCompletions(
              chats.flatMap((c) => [chatTitle(c, ctx.nameFor), String(c.rowid)]),
              value,
            );
          } catch {
            return [];
          }
        },
      },
    }),
    {
      title: "Chat transcript",
      description: `The last ${TRANSCRIPT_MESSAGES} messages of a chat, oldest first. {chat} is a chat id from list_chats, a chat guid, or the chat's name.`,
      mimeType: "text/plain",
    },
    (uri, variables) => {
      const ctx = new ToolContext(deps);
      try {
        const chat = resolveChat(ctx, decodeVariable(variables.chat));
        const messages = ctx.messages.getMessages({ chatRowids: [chat.rowid], limit: TRANSCRIPT_MESSAGES });
        // The chat's name and members are other people's words: named by ref here, spelled out in the fence.
        const header = `Transcript of chat:${chat.rowid} (${chat.service}${chat.isGroup ? `, group of ${chat.participants.length}` : ""}), last ${messages.length} messages, oldest first.`;
        const text = transcript(ctx, header, messages, [chatNameLine(ctx, chat)], true);
        return { contents: [{ uri: uri.href, mimeType: "text/plain", text }] };
      } catch (error) {
        throw readError(error);
      }
    },
  );

  server.registerResource(
    "contact-messages",
    new ResourceTemplate("messages://contact/{contact}", {
      list: undefined,
      complete: {
        contact: (value) => {
          const ctx = new ToolContext(deps);
          const typed = value.trim();
          const names =
            typed === ""
              ? ctx.contacts
                  .all()
                  .map((c) => c.displayName)
                  .sort((a, b) => a.localeCompare(b))
              : ctx.contacts.search(typed, MAX_COMPLETIONS).map((r) => r.contact.displayName);
          return [...new Set(names)].slice(0, MAX_COMPLETIONS);
        },
      },
    }),
    {
      title: "Messages with a person",
      description: `The last ${TRANSCRIPT_MESSAGES} messages with one person across all chats, oldest first. {contact} is a name, phone number, email or contact:<id>.`,
      mimeType: "text/plain",
    },
    (uri, variables) => {
      const ctx = new ToolContext(deps);
      try {
        const person = resolvePersonFilter(ctx, decodeVariable(variables.contact));
        if (person.handles.length === 0) throw new ToolInputError(noHandlesNote(person).emptyText);
        const messages = ctx.messages.getMessages({
          handleRowids: person.handles.map((h) => h.rowid),
          limit: TRANSCRIPT_MESSAGES,
        });
        const header = `Messages ${person.header} (${person.handles.map((h) => h.id).join(", ")}), last ${messages.length}, oldest first.`;
        const text = transcript(ctx, header, messages, person.names);
        return { contents: [{ uri: uri.href, mimeType: "text/plain", text }] };
      } catch (error) {
        throw readError(error);
      }
    },
  );
}
