// Asking the human at the client (MCP elicitation) before doing something on their behalf, e.g.
// send_message with `confirm: true`. Nothing here decides *what* to do: it only reports the answer.
//
// Written once for both protocol eras with the 2026-07-28 multi-round-trip pattern: the tool *returns* an
// input-required result naming the question; a 2026-07-28 client asks its user and calls the tool again
// with the answer; on 2025-era connections the SDK's shim sends the same question as a server→client
// elicitation and re-enters the handler with the answer. Either way the answer comes back through
// `ctx.mcpReq.inputResponses`, next to a `requestState` we sealed: it binds the answer to the exact
// question asked (recipient, text, files), lives ten minutes, and is good for one use, so a client cannot
// reuse a yes for other words or a second send.
import { randomBytes, randomUUID } from "node:crypto";
import {
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  createRequestStateCodec,
  type InputRequiredResult,
  inputRequired,
  inputResponse,
  type McpServer,
  type ServerContext,
} from "@modelcontextprotocol/server";

export type HumanAnswer = "accepted" | "declined" | "unsupported";

/** The answer, or the result that asks the question (return it from the tool handler as it is). */
export type Confirmation = { answer: HumanAnswer } | { ask: InputRequiredResult };

/** How long a person gets to answer; the SDK's 60 s default is short for reading and deciding. */
export const CONFIRM_TIMEOUT_MS = 5 * 60_000;

/** The key of our one question in inputRequests / inputResponses. */
const QUESTION_KEY = "confirm";

interface AskedState {
  /** The question this answer is for, word for word. */
  question: string;
  /** One use: a state seen once is spent. */
  nonce: string;
}

// A per-process key: the state only has to survive one process serving both rounds, which is how this
// server runs (stdio, or one remote process); a restart between rounds just asks again.
const codec = createRequestStateCodec<AskedState>({
  key: randomBytes(32),
  ttlSeconds: CONFIRM_TIMEOUT_MS / 1000,
});

/** Nonces already answered (with when they expire), so an answer cannot be replayed. */
const spent = new Map<string, number>();

function spend(nonce: string): boolean {
  const now = Date.now();
  for (const [old, expires] of spent) if (expires < now) spent.delete(old);
  if (spent.has(nonce)) return false;
  spent.set(nonce, now + CONFIRM_TIMEOUT_MS);
  return true;
}

/**
 * Whether the client said it can show a form to its user (`elicitation` capability): per request on
 * 2026-07-28, from initialize on 2025-era connections. The SDK reads an empty `elicitation: {}` as form
 * support (the 2025-06 spec's only mode).
 */
export function clientCanElicit(server: McpServer, extra: ServerContext): boolean {
  const envelope = extra.mcpReq.envelope as Record<string, unknown> | undefined;
  const perRequest = envelope?.[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined;
  const capabilities = perRequest ?? server.server.getClientCapabilities();
  const elicitation = capabilities?.elicitation as Record<string, unknown> | undefined;
  return (
    elicitation !== undefined && (elicitation.form !== undefined || Object.keys(elicitation).length === 0)
  );
}

/**
 * Shows `question` to the person at the client and reports Accept/Decline. "accepted" only for an explicit
 * accept of this very question in this round; a decline or a dismissed dialog counts as "declined", because
 * the caller must do nothing unless the person clearly said yes. An answer without a valid state (forged,
 * expired, for other words, or already used) is not an answer: the question is asked again.
 * "unsupported": the client cannot ask its user, so the caller should refuse and say so.
 */
export async function confirmWithHuman(
  server: McpServer,
  question: string,
  extra: ServerContext,
): Promise<Confirmation> {
  if (!clientCanElicit(server, extra)) return { answer: "unsupported" };
  const response = inputResponse(extra.mcpReq.inputResponses, QUESTION_KEY);
  if (response.kind === "elicit") {
    const state = await verifiedState(extra);
    if (state !== undefined && state.question === question && spend(state.nonce)) {
      return { answer: response.action === "accept" ? "accepted" : "declined" };
    }
  }
  const requestState = await codec.mint({ question, nonce: randomUUID() });
  return {
    ask: inputRequired({
      inputRequests: {
        // No fields: the Accept / Decline choice is the whole answer.
        [QUESTION_KEY]: inputRequired.elicit({
          message: question,
          requestedSchema: { type: "object", properties: {} },
        }),
      },
      requestState,
    }),
  };
}

async function verifiedState(extra: ServerContext): Promise<AskedState | undefined> {
  const raw = extra.mcpReq.requestState<unknown>();
  if (typeof raw !== "string") return undefined;
  try {
    return await codec.verify(raw, extra);
  } catch {
    return undefined;
  }
}

/** The refusal a tool returns when confirmation was asked for but the client cannot ask its user. */
export const ELICITATION_UNSUPPORTED_MESSAGE =
  "Nothing was done: confirmation was requested, but this MCP client cannot ask its user (it does not " +
  "support elicitation). Ask the user directly in the conversation, then call again without confirm.";

/** McpServer options for the 2025-era shim: the person gets as long to answer as on 2026-07-28. */
export const CONFIRM_SERVER_OPTIONS = { inputRequired: { roundTimeoutMs: CONFIRM_TIMEOUT_MS } } as const;
