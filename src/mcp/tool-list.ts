// The one list of tools. Which tools a server offers (read-only mode, a remote token's scopes, whether a
// scheduler runs), the tool-name lists remote mode checks, the server instructions and the README table are
// all computed from it.
import { showConversation } from "./apps/show-conversation.js";
import type { AnyToolDefinition, ToolPermission } from "./tool-definition.js";
import { cancelScheduledMessage } from "./tools/cancel-scheduled-message.js";
import { checkImessageAvailability } from "./tools/check-imessage-availability.js";
import { checkSetup } from "./tools/check-setup.js";
import { createContact } from "./tools/create-contact.js";
import { findContact } from "./tools/find-contact.js";
import { getAttachment } from "./tools/get-attachment.js";
import { getMessageContext } from "./tools/get-message-context.js";
import { getRecentMessages } from "./tools/get-recent-messages.js";
import { listChats } from "./tools/list-chats.js";
import { listConversations } from "./tools/list-conversations.js";
import { listScheduledMessages } from "./tools/list-scheduled-messages.js";
import { scheduleMessage } from "./tools/schedule-message.js";
import { searchAttachmentContents } from "./tools/search-attachment-contents.js";
import { searchAttachments } from "./tools/search-attachments.js";
import { searchMessages } from "./tools/search-messages.js";
import { sendMessage } from "./tools/send-message.js";
import { waitForNewMessages } from "./tools/wait-for-new-messages.js";

/** Every tool, in the order clients list them. */
export const TOOLS: readonly AnyToolDefinition[] = [
  getRecentMessages,
  getMessageContext,
  searchMessages,
  listChats,
  listConversations,
  showConversation,
  findContact,
  checkImessageAvailability,
  searchAttachments,
  getAttachment,
  searchAttachmentContents,
  waitForNewMessages,
  checkSetup,
  sendMessage,
  createContact,
  scheduleMessage,
  listScheduledMessages,
  cancelScheduledMessage,
];

/** What a server instance may offer: the permissions of its caller and the parts it runs with. */
export interface ToolSelection {
  /** Permissions granted: locally read and send (or read only with --read-only); remotely the token's scopes. */
  permissions: readonly ToolPermission[];
  /** Whether a scheduler runs (the schedule tools need it). */
  scheduler: boolean;
}

/** The tools a server with `selection` offers; the others are not registered, so clients never see them. */
export function selectTools(selection: ToolSelection): AnyToolDefinition[] {
  return TOOLS.filter(
    (tool) =>
      selection.permissions.includes(tool.permission) && (tool.needs !== "scheduler" || selection.scheduler),
  );
}

/**
 * Remote mode: the tools a token with these OAuth scopes may see (`messages:read` → read tools,
 * `messages:send` → send tools), so a token without messages:send does not even list the send tools.
 */
export function toolsForPermissions(
  permissions: readonly ToolPermission[],
  options: { scheduler: boolean } = { scheduler: true },
): AnyToolDefinition[] {
  return selectTools({ permissions, scheduler: options.scheduler });
}

/** Tools every server offers (read permission, nothing optional needed). */
export const READ_TOOL_NAMES: readonly string[] = TOOLS.filter(
  (tool) => tool.permission === "read" && tool.needs === undefined,
).map((tool) => tool.name);

/** Tools that need the send permission (remote mode's messages:send scope). */
export const SEND_TOOL_NAMES: readonly string[] = TOOLS.filter((tool) => tool.permission === "send").map(
  (tool) => tool.name,
);
