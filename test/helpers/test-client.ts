// The official SDK client as the tests make it, not yet connected: mcp-scenario.ts connects it to the server
// in memory, stdio-session.ts to the CLI as a child process, so both ask with the same capabilities and era.
// Its own small module so that a stdio session (and the bench, which uses one) does not load the server's code.
import type { ClientCapabilities } from "@modelcontextprotocol/client";
import { Client } from "@modelcontextprotocol/client";

/** What the test client says it can do (e.g. elicitation), and handlers for it. */
export interface ClientOptions {
  clientCapabilities?: ClientCapabilities;
  setUpClient?: (client: Client) => void;
  /**
   * "2026-07-28": the client pins that revision (server/discover, per-request capabilities, questions as
   * input-required rounds) and the server is served as the CLI serves stdio, by era; default: 2025 initialize.
   */
  era?: "2025" | "2026-07-28";
  /** 2026-07-28 only: the client does not answer input-required rounds itself (the test does). */
  manualRounds?: boolean;
}

export function testClient(options: ClientOptions): Client {
  const modern = options.era === "2026-07-28";
  const client = new Client(
    { name: "mcp-test", version: "1.0.0" },
    {
      capabilities: options.clientCapabilities ?? {},
      ...(modern ? { versionNegotiation: { mode: { pin: "2026-07-28" as const } } } : {}),
      ...(modern && options.manualRounds ? { inputRequired: { autoFulfill: false } } : {}),
    },
  );
  options.setUpClient?.(client);
  return client;
}

/**
 * A client that can be asked questions (elicitation, e.g. send_message's confirmation) and gives `action` to
 * every one, keeping each question's text in `asked`.
 */
export function answeringQuestions(action: "accept" | "decline" | "cancel", asked: string[]): ClientOptions {
  return {
    clientCapabilities: { elicitation: {} },
    setUpClient: (client) =>
      client.setRequestHandler("elicitation/create", (request) => {
        asked.push(request.params.message);
        return { action };
      }),
  };
}
