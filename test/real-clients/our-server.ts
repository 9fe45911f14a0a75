// Our server as real clients meet it: the CLI from source as a child process — a stdio entry for an MCP
// client's config, or `remote` on a loopback port with an owner password set through `auth set-password`.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { McpServerConfig } from "../helpers/claude-code.js";
import { getFreePort, OWNER_PASSWORD } from "../helpers/remote-fixtures.js";
import { sourceCli } from "../helpers/stdio-session.js";

/** Start-up of a tsx-compiled CLI on a busy two-core machine: allow a lot. */
const START_TIMEOUT_MS = 120_000;

/** Our CLI as an MCP client's stdio server entry; `stateDir` keeps its state (and demo data) out of $HOME. */
export function stdioServer(args: string[], stateDir: string): McpServerConfig {
  return { type: "stdio", ...sourceCli(args), env: { MAC_MESSAGES_MCP_HOME: stateDir } };
}

/** Runs our CLI to completion (e.g. `auth set-password`), with `input` on stdin. */
export function runOurCli(
  args: string[],
  options: { input?: string; env?: Record<string, string> } = {},
): { status: number | null; stdout: string; stderr: string } {
  const { command, args: argv } = sourceCli(args);
  const run = spawnSync(command, argv, {
    input: options.input ?? "",
    encoding: "utf8",
    env: { ...process.env, ...options.env },
    timeout: START_TIMEOUT_MS,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

export interface RemoteCli {
  /** The issuer/base URL exactly as given to --server-url. */
  serverUrl: string;
  mcpUrl: string;
  stateDir: string;
  /** Everything the server wrote so far (its log lines go to stderr). */
  output(): string;
  close(): Promise<void>;
}

/**
 * `mac-messages-mcp [dataArgs] remote` on 127.0.0.1 with a fresh state folder and the test owner password.
 * Resolves once its OAuth metadata answers.
 */
export async function startRemoteCli(dataArgs: string[]): Promise<RemoteCli> {
  const stateDir = mkdtempSync(join(tmpdir(), "real-clients-remote-"));
  const env = { MAC_MESSAGES_MCP_HOME: stateDir };
  const password = runOurCli(["auth", "set-password", "--state-dir", stateDir], {
    input: `${OWNER_PASSWORD}\n`,
    env,
  });
  if (password.status !== 0) throw new Error(`auth set-password failed: ${password.stderr}`);
  const port = await getFreePort();
  const serverUrl = `http://127.0.0.1:${port}`;
  const { command, args } = sourceCli([
    ...dataArgs,
    "remote",
    "--server-url",
    serverUrl,
    "--port",
    String(port),
    "--state-dir",
    stateDir,
    // Claude Code uses a Client ID Metadata Document when the server supports them, at claude.ai, which a
    // test machine without internet access cannot fetch: its login would stop at "could not be identified".
    // Turned off, clients register (DCR), which is what these tests drive; test/remote/client-id-metadata.test.ts
    // covers the documents with a local https site and oauth4webapi.
    "--no-client-metadata-documents",
  ]);
  const child: ChildProcess = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(stateDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await close();
      throw new Error(`the remote server exited during start-up:\n${output}`);
    }
    try {
      const res = await fetch(`${serverUrl}/.well-known/oauth-authorization-server`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await close();
      throw new Error(`the remote server did not answer within ${START_TIMEOUT_MS / 1000} s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { serverUrl, mcpUrl: `${serverUrl}/mcp`, stateDir, output: () => output, close };
}
