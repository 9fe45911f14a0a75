// Shared set-up for the mcp-parity tests: a real McpServer with the parity tools registered over real
// stores, and the SDK Client connected to it in memory.

import { Client } from "@modelcontextprotocol/client";
import type { CallToolResult, ClientCapabilities } from "@modelcontextprotocol/server";
import { InMemoryTransport, McpServer } from "@modelcontextprotocol/server";
import { TOOLS } from "../../src/mcp/index.js";

export interface Connected {
  server: McpServer;
  client: Client;
  close(): Promise<void>;
}

/** Connects a Client (with the given capabilities) to `server`, after `register` added what it serves. */
export async function connect(
  register: (server: McpServer) => void,
  capabilities: ClientCapabilities = {},
): Promise<Connected> {
  const server = new McpServer({ name: "parity-test", version: "0.0.0" });
  register(server);
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  const client = new Client({ name: "parity-test-client", version: "0.0.0" }, { capabilities });
  await client.connect(clientTransport);
  return {
    server,
    client,
    async close() {
      await client.close();
      await server.close();
    },
  };
}

export function textOf(result: CallToolResult): string {
  return result.content
    .filter((c): c is { type: "text"; text: string } => c.type === "text")
    .map((c) => c.text)
    .join("\n");
}

/** A tool result, and for reading tools the data behind it (the same call with format "json"). */
export type CalledTool = CallToolResult & { data?: unknown };

/** Tools that only read: asking one of them the same question twice changes nothing. */
const READING_TOOLS: readonly string[] = TOOLS.filter((t) => t.permission === "read").map((t) => t.name);

/**
 * callTool as a model would call it (the text rendering), plus — for reading tools — the same question
 * with format "json", kept as `data` for `structured`. Tools that act are called once: pass format "json"
 * to read their data.
 */
export async function call(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<CalledTool> {
  const result = (await client.callTool({ name, arguments: args })) as CalledTool;
  result.data = result.structuredContent;
  if (
    result.data === undefined &&
    !result.isError &&
    args.format === undefined &&
    READING_TOOLS.includes(name)
  ) {
    result.data = (
      (await client.callTool({ name, arguments: { ...args, format: "json" } })) as CallToolResult
    ).structuredContent;
  }
  return result;
}

export function structured<T = Record<string, unknown>>(result: CalledTool): T {
  if (result.isError) throw new Error(`tool failed: ${textOf(result)}`);
  return (result.data ?? result.structuredContent) as T;
}
