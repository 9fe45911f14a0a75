// The one list of tools. Which tools a server offers (read-only mode, a remote token's scopes, whether a
// scheduler runs), the tool-name lists remote mode checks, the server instructions and the README table are
// all computed from it.
import { showConversation } from "./apps/show-conversation.js";
import type { AnyToolDefinition, ToolPermission } from "./tool-definition.js";
import { getAttachment, searchAttachmentContents, searchAttachments } from "./tools/attachments.js";
import { listChats } from "./tools/chats.js";
import { checkImessageAvailability, findContact } from "./tools/contacts.js";
import { listConversations } from "./tools/conversations.js";
import { createContact } from "./tools/create-contact.js";
import { getRecentMessages, searchMessages } from "./tools/messages.js";
import { cancelScheduledMessage, listScheduledMessages, scheduleMessage } from "./tools/schedule.js";
import { sendMessage } from "./tools/send.js";
import { checkSetup } from "./tools/setup.js";
import { waitForNewMessages } from "./tools/wait.js";

/** Every tool, in the order clients list them. */
export const TOOLS: readonly AnyToolDefinition[] = [
  getRecentMessages,
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
