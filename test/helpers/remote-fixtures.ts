// Shared set-up for the remote-mode tests: a temp state dir with an owner password, a free port,
// and a small real McpServer (echo + send_message) behind startRemoteServer.
import { subscribe } from "node:diagnostics_channel";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
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
import { waitUntil } from "./wait.js";

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

/**
 * Every TCP connection this process opens (fetch's keep-alive pool, the SDK transports), by the port it
 * reached, until it closes. Node announces each new client socket on the `net.client.socket` channel.
 */
const openClientSockets = new Map<Socket, number | undefined>();
subscribe("net.client.socket", (message) => {
  const { socket } = message as { socket: Socket };
  openClientSockets.set(socket, undefined);
  socket.once("connect", () => openClientSockets.set(socket, socket.remotePort));
  socket.once("close", () => openClientSockets.delete(socket));
});

/** This process's connections to `port` that have not closed yet. */
function openConnectionsTo(port: number): number {
  let count = 0;
  for (const remotePort of openClientSockets.values()) if (remotePort === port) count++;
  return count;
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
      // The old server has closed its end of every connection, but fetch's pool learns that only when it
      // reads the close, and a request written to such a socket meanwhile fails with "other side closed".
      // So wait until every connection this process had to the old server is closed on our side too: what
      // is sent after the restart then goes over fresh connections. (No guess at how long that takes.)
      await waitUntil(
        () => openConnectionsTo(port) === 0,
        `this process's connections to the old server on port ${port} to close`,
      );
      // Resolves once the new server is listening.
      handle.server = await startRemoteServer(options);
    },
    close: () => handle.server.close(),
  };
  return handle;
}
