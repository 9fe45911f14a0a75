// Shared set-up for the mcp-parity tests: a real McpServer with the parity tools registered over real
// stores, and the SDK Client connected to it in memory.

import { Client } from "@modelcontextprotocol/client";
import type { CallToolResult, ClientCapabilities } from "@modelcontextprotocol/server";
import { InMemoryTransport, McpServer } from "@modelcontextprotocol/server";

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

/** callTool with the result typed as a tool result (the SDK's union also allows the legacy shape). */
export async function call(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

export function structured<T = Record<string, unknown>>(result: CallToolResult): T {
  if (result.isError) throw new Error(`tool failed: ${textOf(result)}`);
  return result.structuredContent as T;
}
