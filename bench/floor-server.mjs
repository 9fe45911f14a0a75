// The start-up floor: a bare MCP server on the same SDK (McpServer, its stdio entry, one zod tool) and no
// application code. What any server built on this SDK pays before it can answer tools/list; the bench
// prints the real server's start-up as a ratio to it, measured in the same run. Plain JavaScript, so it
// loads as the built CLI does (no TypeScript loader).
import { McpServer } from "@modelcontextprotocol/server";
import { serveStdio } from "@modelcontextprotocol/server/stdio";
import * as z from "zod";

serveStdio(() => {
  const server = new McpServer({ name: "floor", version: "1.0.0" });
  server.registerTool(
    "echo",
    { description: "Echoes its text.", inputSchema: z.object({ text: z.string() }) },
    async ({ text }) => ({ content: [{ type: "text", text }] }),
  );
  return server;
});
