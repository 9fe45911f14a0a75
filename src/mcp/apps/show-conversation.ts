// show_conversation: one chat as the person knows it, drawn by the conversation view (MCP Apps) in clients
// that render views, and the same compact fenced text as get_recent_messages for the model and for every
// client that does not. A tool of its own rather than a view on get_recent_messages: that one is called
// all the time for catching up and polling, across chats, where a view per call would be noise and the
// thumbnails wasted work; this one is asked for when the person wants to *see* a conversation.
//
// The view's data rides in the result's `_meta` (VIEW_DATA_KEY), not in structuredContent: Claude Code
// and VS Code hand a model structuredContent instead of the text (render-result.ts), and this data is
// unfenced other people's text plus thumbnails. The view pages back and searches by calling this tool and
// search_messages through the host, and replies through send_message, so it sees nothing a tool call did
// not return and sends only the way the model could, with the same confirmation and scopes.
import { z } from "zod";
import { decodePositionCursor, moreNote, positionPage } from "../core/paging.js";
import { chatRefString, resolveChat } from "../core/resolve-references.js";
import { ToolContext } from "../core/tool-context.js";
import { guard, okResult, ToolInputError } from "../core/tool-result.js";
import { nameLine } from "../format.js";
import { renderMessagePage } from "../render-messages.js";
import { defineTool } from "../tool-definition.js";
import { type ConversationViewData, VIEW_DATA_KEY, viewChat, viewMessages } from "./conversation-data.js";
import { CONVERSATION_VIEW_URI } from "./conversation-view.js";

export const SHOW_CONVERSATION_DEFAULT_LIMIT = 30;
export const SHOW_CONVERSATION_MAX_LIMIT = 100;

export const showConversation = defineTool({
  name: "show_conversation",
  title: "Show a conversation",
  description:
    "Show the user a chat as a Messages-style conversation to scroll, search and reply in (clients with MCP Apps draw it; you get the text). Use it when the user wants to see a conversation.",
  inputSchema: {
    chat: z
      .string()
      .min(1)
      .max(500)
      .describe("chat:<id> from list_chats, a chat guid, or a group's or person's name."),
    limit: z
      .number()
      .int()
      .min(1)
      .max(SHOW_CONVERSATION_MAX_LIMIT)
      .optional()
      .describe(`Default ${SHOW_CONVERSATION_DEFAULT_LIMIT}, at most ${SHOW_CONVERSATION_MAX_LIMIT}.`),
    cursor: z.string().max(200).optional().describe("nextCursor of the previous result (older messages)."),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  // Both spellings, as the extension's registerAppTool writes them: hosts that predate `ui` read the flat key.
  _meta: { ui: { resourceUri: CONVERSATION_VIEW_URI }, "ui/resourceUri": CONVERSATION_VIEW_URI },
  permission: "read",
  handler: (args, { deps, offers }) =>
    guard(async () => {
      const ctx = new ToolContext(deps);
      if (args.chat.trim() === "") throw new ToolInputError("Say which chat: chat:<id> from list_chats.");
      const chat = resolveChat(ctx, args.chat);
      const limit = args.limit ?? SHOW_CONVERSATION_DEFAULT_LIMIT;
      const found = ctx.messages.getMessages({
        chatRowids: [chat.rowid],
        order: "desc",
        limit: limit + 1,
        cursor: args.cursor === undefined ? undefined : decodePositionCursor(args.cursor),
      });
      const { page, nextCursor } = positionPage(found, limit);
      const ref = chatRefString(chat);
      const view = viewChat(ctx, chat);
      const text = renderMessagePage({
        header: `Messages in ${ref} (a conversation view where the client shows MCP Apps): ${page.length} shown, newest first.`,
        names: [nameLine(ref, view.name)],
        messages: page.map((m) => ctx.messageView(m)),
        oneChat: true,
        emptyNote: args.cursor === undefined ? "No messages in this chat." : "No older messages.",
        more: moreNote("messages", nextCursor).trim() || undefined,
      });
      const data: ConversationViewData = {
        chat: view,
        messages: await viewMessages(ctx, page),
        nextCursor,
        canSend: offers("send_message"),
        timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC",
      };
      // okResult's data is what format "json" returns (without the thumbnails: get_attachment has the
      // images); the view reads the data from _meta.
      const result = okResult(text, {
        ...data,
        messages: data.messages.map((m) => ({
          ...m,
          attachments: m.attachments.map(({ thumbnail: _, ...rest }) => rest),
        })),
      });
      return { ...result, _meta: { [VIEW_DATA_KEY]: data } };
    }),
});
