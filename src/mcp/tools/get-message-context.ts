// get_message_context: a message and the messages around it in its chat ("what was she answering?").

import { z } from "zod";
import { messagesAround } from "../../messages/surrounding.js";
import { messageSchema, timezoneInput } from "../core/input-schemas.js";
import { ToolContext } from "../core/tool-context.js";
import { guard, okResult, ToolInputError } from "../core/tool-result.js";
import { nameLine } from "../format.js";
import { renderMessagePage } from "../render-messages.js";
import { defineTool } from "../tool-definition.js";

const DEFAULT_AROUND = 5;
export const MAX_AROUND = 50;

const around = (which: string) =>
  z
    .number()
    .int()
    .min(0)
    .max(MAX_AROUND)
    .optional()
    .describe(`How many ${which} (default ${DEFAULT_AROUND}).`);

const getMessageContextTool = {
  title: "Get message context",
  description:
    "A message (#id) with the messages around it in its chat, oldest first. Use it to see what a reply answers or what led up to a message.",
  inputSchema: {
    message_id: z.number().int().min(1),
    before: around("before"),
    after: around("after"),
    timezone: timezoneInput,
  },
  outputSchema: {
    message: messageSchema,
    before: z.array(messageSchema).describe("Oldest first."),
    after: z.array(messageSchema).describe("Oldest first."),
    moreBefore: z.boolean(),
    moreAfter: z.boolean(),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

export const getMessageContext = defineTool({
  name: "get_message_context",
  permission: "read",
  ...getMessageContextTool,
  handler: (args, { deps }) =>
    guard(() => {
      const ctx = new ToolContext(deps, { timeZone: args.timezone });
      const before = args.before ?? DEFAULT_AROUND;
      const after = args.after ?? DEFAULT_AROUND;
      const found = messagesAround(ctx.messages, args.message_id, before, after);
      if (!found) {
        throw new ToolInputError(
          `There is no message #${args.message_id}. Message ids are the #numbers in other results.`,
        );
      }
      const message = ctx.messageView(found.message);
      const earlier = found.before.map((m) => ctx.messageView(m));
      const later = found.after.map((m) => ctx.messageView(m));
      const chat = message.chat;
      const ref = chat ? `chat:${chat.id}` : null;
      const where = ref ? ` in ${ref}` : "";
      const header =
        `Message #${args.message_id}${where} with ${found.before.length} before and ` +
        `${found.after.length} after, oldest first.`;
      const more = [
        found.moreBefore ? "earlier (a larger before)" : "",
        found.moreAfter ? "later (a larger after)" : "",
      ]
        .filter((part) => part !== "")
        .join(" and ");
      const text = renderMessagePage({
        header,
        names: chat && ref ? [nameLine(ref, chat.name)] : [],
        messages: [...earlier, message, ...later],
        oneChat: chat !== null,
        emptyNote: "",
        timeZone: ctx.timeZone,
        more: more ? `More of the chat: ${more}.` : undefined,
      });
      return okResult(text, {
        message,
        before: earlier,
        after: later,
        moreBefore: found.moreBefore,
        moreAfter: found.moreAfter,
      });
    }),
});
