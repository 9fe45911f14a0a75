// Asking the human at the client (MCP elicitation) before doing something on their behalf, e.g.
// send_message with `confirm: true`. Nothing here decides *what* to do: it only reports the answer.
import type { McpServer, ServerContext } from "@modelcontextprotocol/server";

export type HumanAnswer = "accepted" | "declined" | "unsupported";

export type ToolCallExtra = ServerContext;

/** How long a person gets to answer; the SDK's 60 s default is short for reading and deciding. */
export const CONFIRM_TIMEOUT_MS = 5 * 60_000;

/** Whether the connected client said it can show a form to its user (`elicitation` capability). */
export function clientCanElicit(server: McpServer): boolean {
  const elicitation = server.server.getClientCapabilities()?.elicitation;
  // The SDK reads an empty `elicitation: {}` as form support (the 2025-06 spec's only mode).
  return elicitation?.form !== undefined;
}

/**
 * Shows `message` to the person at the client and waits for Accept/Decline. "accepted" only for an
 * explicit accept; a decline, a dismissed dialog (cancel), a timeout or a broken connection all count
 * as "declined", because the caller must do nothing unless the person clearly said yes.
 * "unsupported": the client cannot ask its user, so the caller should refuse and say so.
 */
export async function confirmWithHuman(
  server: McpServer,
  message: string,
  extra?: ToolCallExtra,
): Promise<HumanAnswer> {
  if (!clientCanElicit(server)) return "unsupported";
  try {
    const result = await server.server.elicitInput(
      // No fields: the Accept / Decline choice is the whole answer.
      { mode: "form", message, requestedSchema: { type: "object", properties: {} } },
      {
        // Over Streamable HTTP this keeps the question on the tool call's own response stream.
        relatedRequestId: extra?.mcpReq.id,
        signal: extra?.mcpReq.signal,
        timeout: CONFIRM_TIMEOUT_MS,
      },
    );
    return result.action === "accept" ? "accepted" : "declined";
  } catch {
    return "declined";
  }
}

/** The refusal a tool returns when confirmation was asked for but the client cannot ask its user. */
export const ELICITATION_UNSUPPORTED_MESSAGE =
  "Nothing was done: confirmation was requested, but this MCP client cannot ask its user (it does not " +
  "support elicitation). Ask the user directly in the conversation, then call again without confirm.";
