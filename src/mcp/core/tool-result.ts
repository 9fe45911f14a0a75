// Tool results and plain-words errors: what every tool returns, and how a throw becomes a result.

import type { CallToolResult, InputRequiredResult } from "@modelcontextprotocol/server";
import { UserFacingError } from "../../util/user-facing-error.js";

/** A problem with what the caller asked for; its message is shown to the caller as is. */
export class ToolInputError extends UserFacingError {
  override readonly name = "ToolInputError";
}

export function errorResult(message: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text: message }] };
}

/** Plain words for any failure: known errors as written, anything else as one line without a stack. */
export function describeError(error: unknown): string {
  if (error instanceof UserFacingError && error.showToClient) return error.message;
  const detail = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code.startsWith("SQLITE_BUSY")) {
    return "The Messages database is busy (Messages is writing to it). Try again in a moment.";
  }
  return `Something went wrong: ${detail.split("\n")[0]}`;
}

/** Runs a tool body and turns any throw into an `isError` result, so clients never see a stack trace. */
export async function guard<T extends CallToolResult | InputRequiredResult>(
  body: () => T | Promise<T>,
): Promise<T | CallToolResult> {
  try {
    return await body();
  } catch (error) {
    return errorResult(describeError(error));
  }
}

/** A tool result carrying both the text a model reads and the structured object the output schema describes. */
export function okResult(text: string, structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text }], structuredContent: structured };
}
