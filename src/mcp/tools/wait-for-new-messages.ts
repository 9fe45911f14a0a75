// wait_for_new_messages: a bounded long-poll for messages newer than a ROWID, so a client without
// resource subscriptions (most stdio clients) can still react to new messages without busy-looping.
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import type { Message } from "../../messages/types.js";
import { chatInput, contactInput, messageSchema } from "../core/input-schemas.js";
import { resolveConversationFilter } from "../core/resolve-references.js";
import { ToolContext } from "../core/tool-context.js";
import { guard, okResult } from "../core/tool-result.js";
import { withNames } from "../format.js";
import { renderMessagePage } from "../render-messages.js";
import { defineTool } from "../tool-definition.js";

// wait_for_new_messages: a bounded long-poll for messages newer than a ROWID, so a client without
// resource subscriptions (most stdio clients) can still react to new messages without busy-looping.

export const MAX_WAIT_SECONDS = 300;
const DEFAULT_WAIT_SECONDS = 60;
/** `SELECT MAX(ROWID)` is an index lookup, so once a second costs next to nothing. */
export const DEFAULT_POLL_INTERVAL_MS = 1000;
const MAX_RETURNED = 100;

const waitForNewMessagesTool = {
  title: "Wait for new messages",
  description:
    "Wait (up to a timeout) for messages newer than since_rowid, optionally from one person or chat, and return them oldest first. Use it to react to replies as they arrive; pass latestRowid back as since_rowid next time.",
  inputSchema: {
    since_rowid: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Only ids above this (a message id or latestRowid). Default: now."),
    contact: contactInput,
    chat: chatInput,
    timeout_seconds: z
      .number()
      .positive()
      .max(MAX_WAIT_SECONDS)
      .optional()
      .describe(`How long to wait at most (default ${DEFAULT_WAIT_SECONDS}).`),
  },
  outputSchema: {
    messages: z.array(messageSchema).describe("Oldest first."),
    count: z.number().int(),
    latestRowid: z.number().int().describe("Pass as since_rowid to wait for the next ones."),
    timedOut: z.boolean(),
    filter: z.string(),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

export const waitForNewMessages = defineTool({
  name: "wait_for_new_messages",
  permission: "read",
  ...waitForNewMessagesTool,
  handler: (args, { deps, extra }) =>
    guard(async () => {
      const pollIntervalMs = deps.waitPollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
      const ctx = new ToolContext(deps);
      const filter = resolveConversationFilter(ctx, args);
      const sinceRowid = args.since_rowid ?? ctx.messages.maxRowid();
      const timeoutMs = (args.timeout_seconds ?? DEFAULT_WAIT_SECONDS) * 1000;
      if ("empty" in filter) {
        return okResult(filter.emptyText, {
          messages: [],
          count: 0,
          latestRowid: sinceRowid,
          timedOut: false,
          filter: filter.empty,
        });
      }
      const what = (who: string) => `New messages after #${sinceRowid}${who ? ` ${who}` : ""}`;
      const progressToken = extra.mcpReq._meta?.progressToken;
      const started = Date.now();
      let checkedUpTo = sinceRowid;
      let found: Message[] = [];
      let timedOut = false;
      for (;;) {
        const latest = ctx.messages.maxRowid();
        // Only look at rows when there are new ones: the common case is one MAX(ROWID) per poll.
        if (latest > checkedUpTo) {
          found = ctx.messages.getMessages({
            afterRowid: sinceRowid,
            chatRowids: filter.chatRowids,
            handleRowids: filter.handleRowids,
            limit: MAX_RETURNED,
            order: "asc",
          });
          checkedUpTo = latest;
          if (found.length > 0) break;
        }
        const elapsed = Date.now() - started;
        if (elapsed >= timeoutMs) {
          timedOut = true;
          break;
        }
        if (progressToken !== undefined) {
          await extra.mcpReq.notify({
            method: "notifications/progress",
            params: {
              progressToken,
              progress: elapsed / 1000,
              total: timeoutMs / 1000,
              message: "Waiting for new messages…",
            },
          });
        }
        try {
          await sleep(Math.min(pollIntervalMs, timeoutMs - elapsed), undefined, {
            signal: extra.mcpReq.signal,
          });
        } catch {
          // Cancelled by the client: it no longer wants an answer, so stop polling and return quietly.
          break;
        }
      }
      const views = found.map((m) => ctx.messageView(m));
      const lastFound = found[found.length - 1]?.rowid ?? 0;
      // A full page may have left newer matches behind: continue from the last one returned.
      const latestRowid = found.length >= MAX_RETURNED ? lastFound : Math.max(checkedUpTo, lastFound);
      const header = timedOut
        ? `${what(filter.header)}: none arrived within ${timeoutMs / 1000} s. Call again with since_rowid ${latestRowid} to keep waiting.`
        : `${what(filter.header)}: ${views.length}, oldest first. Next time pass since_rowid ${latestRowid}.`;
      const text =
        views.length > 0
          ? renderMessagePage({
              header,
              names: filter.names,
              messages: views,
              oneChat: filter.chatRowids?.length === 1,
              emptyNote: "",
              timeZone: ctx.timeZone,
            })
          : withNames(header, filter.names);
      return okResult(text, {
        messages: views,
        count: views.length,
        latestRowid,
        timedOut,
        filter: what(filter.description),
      });
    }),
});
