// A stdio MCP server (our CLI, as an MCP client starts it) in a child process, reached through the SDK's
// StdioClientTransport and the same test client as the in-memory sessions (test-client.ts). Seven test files
// and the bench's code-cache warm-up each wrote this set-up out (spawn, keep stderr, connect, close), and the
// copies had drifted: some showed stderr when they failed, two piped it and never read it (a server that
// wrote enough would have blocked), one waited for the process to be gone before reading what it leaves on
// exit, the rest did not. Here once, with waits that hold on a busy two-core machine, where a tsx-compiled
// CLI can take many seconds to answer initialize.
import { resolve } from "node:path";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { processIsAlive } from "../../src/util/secure-file.js";
import type { RegisteredSession } from "./mcp-scenario.js";
import { type ClientOptions, testClient } from "./test-client.js";
import { waitUntil } from "./wait.js";

/**
 * A server as an MCP client's configuration names it (no shell). `env` is the child's environment; the SDK
 * adds only what is unset of HOME, LOGNAME, PATH, SHELL, TERM and USER.
 */
export interface StdioServerCommand {
  command: string;
  args?: string[];
  env: Record<string, string>;
  cwd?: string;
}

export interface StdioSession extends RegisteredSession {
  /** Everything the server has written to stderr so far. */
  stderr(): string;
}

const MAIN_TS = resolve(import.meta.dirname, "..", "..", "src", "cli", "main.ts");
/** tsx's loader by absolute URL: MCP clients start servers in their own working directory. */
const TSX_LOADER = import.meta.resolve("tsx");

/** Our CLI from source with these arguments, as an MCP client's configuration would hold it (no shell). */
export function sourceCli(
  args: string[],
  env: Record<string, string> = {},
): StdioServerCommand & { args: string[] } {
  return { command: process.execPath, args: ["--import", TSX_LOADER, MAIN_TS, ...args], env };
}

/** For the answer to initialize (the SDK's default is 60 s). */
const CONNECT_TIMEOUT_MS = 120_000;
/** For the process to be gone once closed: the SDK ends its stdin, then sends SIGTERM and SIGKILL within ~4 s. */
const EXIT_TIMEOUT_MS = 60_000;

/** Keeps the process id it started: the SDK forgets it on close, before the process has exited. */
class KeptPidTransport extends StdioClientTransport {
  startedPid: number | null = null;

  override async start(): Promise<void> {
    await super.start();
    this.startedPid = this.pid;
  }
}

/**
 * Adds the server's stderr to a failure's message and to the stack the test runner prints, keeping the error
 * itself (an AssertionError keeps its actual, expected and where it was thrown).
 */
function withServerStderr(error: unknown, stderr: string): unknown {
  if (!(error instanceof Error)) return error;
  const note = `\nserver stderr:\n${stderr || "(nothing)"}`;
  // Read before the message changes: V8 writes the stack out on first read, with the message as it is then.
  const stack = error.stack ?? "";
  error.message += note;
  // After the header (name, code, message: any number of lines), before the first frame.
  const frames = stack.search(/\n\s+at /);
  error.stack = frames < 0 ? `${stack}${note}` : `${stack.slice(0, frames)}${note}${stack.slice(frames)}`;
  return error;
}

/**
 * Starts the server and connects the test client to it (capabilities, handlers and era as for the in-memory
 * `connect`). A server that does not start or answer fails with its stderr; close() returns once the process
 * is gone, so the next test may use or remove what it wrote.
 */
export async function openStdioSession(
  server: StdioServerCommand,
  options: ClientOptions = {},
): Promise<StdioSession> {
  const transport = new KeptPidTransport({ ...server, stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const client = testClient(options);
  const close = async () => {
    await client.close();
    const pid = transport.startedPid;
    if (pid === null) return;
    try {
      await waitUntil(() => !processIsAlive(pid), `the server (pid ${pid}) to exit`, EXIT_TIMEOUT_MS);
    } catch (error) {
      // Not left running behind the failure.
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
      throw error;
    }
  };
  try {
    await client.connect(transport, { timeout: CONNECT_TIMEOUT_MS });
  } catch (error) {
    // The error to report is why it did not connect, not how it then closed.
    await close().catch(() => {});
    throw withServerStderr(error, stderr);
  }
  return { client, close, stderr: () => stderr };
}

/** One session around `body`, closed whatever happens; a failure in `body` carries the server's stderr. */
export async function withStdioSession<T>(
  server: StdioServerCommand,
  body: (session: StdioSession) => Promise<T>,
  options: ClientOptions = {},
): Promise<T> {
  const session = await openStdioSession(server, options);
  try {
    return await body(session);
  } catch (error) {
    throw withServerStderr(error, session.stderr());
  } finally {
    await session.close();
  }
}
