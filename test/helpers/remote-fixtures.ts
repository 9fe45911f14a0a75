// Shared set-up for the remote-mode tests: a temp state dir with an owner password, a free port,
// and a small real McpServer (echo + send_message) behind startRemoteServer.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpServer } from "@modelcontextprotocol/server";
import * as z from "zod";
import {
  type RemoteServerOptions,
  type RunningRemoteServer,
  setOwnerPassword,
  startRemoteServer,
} from "../../src/remote/index.js";

export const OWNER_PASSWORD = "correct horse battery staple";
export const SEND_TOOL = "send_message";

export async function makeStateDir(withPassword = true): Promise<{ dir: string; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), "mmcp-remote-"));
  if (withPassword) await setOwnerPassword(dir, OWNER_PASSWORD);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A port that was free a moment ago: the public server URL must name it before the server starts. */
export async function getFreePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Every call records who asked, so tests can check the auth info reached the tool layer. */
export function makeTestMcpServerFactory() {
  const calls: { tool: string; clientId: string; scopes: string[] }[] = [];
  const createMcpServer: RemoteServerOptions["createMcpServer"] = (auth) => {
    const server = new McpServer({ name: "remote-test", version: "1.0.0" });
    server.registerTool(
      "echo",
      { description: "Echo text back", inputSchema: z.object({ text: z.string() }) },
      async ({ text }) => {
        calls.push({ tool: "echo", ...auth });
        return { content: [{ type: "text", text: `echo: ${text}` }] };
      },
    );
    server.registerTool(
      SEND_TOOL,
      { description: "Pretend to send", inputSchema: z.object({ to: z.string(), text: z.string() }) },
      async ({ to }) => {
        calls.push({ tool: SEND_TOOL, ...auth });
        return { content: [{ type: "text", text: `sent to ${to}` }] };
      },
    );
    return server;
  };
  return { createMcpServer, calls };
}

export interface TestRemote {
  server: RunningRemoteServer;
  serverUrl: string;
  port: number;
  logs: string[];
  calls: ReturnType<typeof makeTestMcpServerFactory>["calls"];
  clock: { offsetMs: number };
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the real remote server on 127.0.0.1 with a clock tests can move forward. */
export async function startTestRemote(
  stateDir: string,
  extra: Partial<RemoteServerOptions> = {},
): Promise<TestRemote> {
  const port = await getFreePort();
  const serverUrl = `http://127.0.0.1:${port}`;
  const logs: string[] = [];
  const { createMcpServer, calls } = makeTestMcpServerFactory();
  const clock = { offsetMs: 0 };
  const options: RemoteServerOptions = {
    serverUrl,
    port,
    stateDir,
    createMcpServer,
    sendToolNames: [SEND_TOOL],
    logWriter: (line) => logs.push(line),
    nowMs: () => Date.now() + clock.offsetMs,
    ...extra,
  };
  const handle: TestRemote = {
    server: await startRemoteServer(options),
    serverUrl,
    port,
    logs,
    calls,
    clock,
    async restart() {
      await handle.server.close();
      // Let this process's fetch pool see the closed keep-alive sockets before reusing the port;
      // otherwise the first request after the restart may be written to a dead socket.
      await new Promise((resolve) => setTimeout(resolve, 100));
      handle.server = await startRemoteServer(options);
    },
    close: () => handle.server.close(),
  };
  return handle;
}
