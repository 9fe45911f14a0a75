// Runs the real Claude Code CLI (pinned, see real-clients.ts) the way a user would, in a throw-away home:
//  - runClaudeToolCall: print mode (`claude -p`) against the stand-in model API, which asks for one MCP tool
//    call; returns exactly what Claude Code handed the model as the tool_result.
//  - startClaudeCli: a sandbox for other commands (`claude mcp add/list/get/login/logout …`); `login` needs
//    a terminal, so `runInTerminal` gives it one (see pseudo-terminal.ts).
// Claude Code never sees the developer's own settings, credentials or ANTHROPIC_* variables: its
// environment is built from scratch, with telemetry, updates and other non-essential traffic off, and its
// API base URL always points at a stand-in on loopback (without one, every command spends ~17 s retrying
// settings and policy fetches from api.anthropic.com, which is unreachable here by design).
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInPseudoTerminal } from "./pseudo-terminal.js";
import type { RealClients } from "./real-clients.js";
import { type ModelContentBlock, startStandInModelApi, type ToolResultBlock } from "./stand-in-model-api.js";

export type McpServerConfig =
  | { type: "stdio"; command: string; args: string[]; env?: Record<string, string> }
  | { type: "http" | "sse"; url: string; headers?: Record<string, string> };

/** Generous: Claude Code plus an MCP server starting on a busy two-core machine can take a while. */
export const CLAUDE_TIMEOUT_MS = 180_000;
const STAND_IN_API_KEY = "sk-ant-api03-stand-in-key-for-tests";

export interface ClaudeSandbox {
  home: string;
  /** An empty folder to run in, so no repository context (git status, CLAUDE.md) enters the prompt. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

/** A fresh HOME/CLAUDE_CONFIG_DIR and a minimal environment; `env` adds e.g. ANTHROPIC_BASE_URL. */
export function makeClaudeSandbox(env: Record<string, string> = {}): ClaudeSandbox {
  const root = mkdtempSync(join(tmpdir(), "claude-code-"));
  const home = join(root, "home");
  const cwd = join(root, "work");
  mkdirSync(join(home, ".claude"), { recursive: true });
  mkdirSync(cwd);
  return {
    home,
    cwd,
    env: {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      LANG: "C.UTF-8",
      TERM: "dumb",
      HOME: home,
      CLAUDE_CONFIG_DIR: join(home, ".claude"),
      ANTHROPIC_API_KEY: STAND_IN_API_KEY,
      DISABLE_TELEMETRY: "1",
      DISABLE_AUTOUPDATER: "1",
      DISABLE_ERROR_REPORTING: "1",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      // With tool search on, MCP tools are deferred behind a ToolSearch call; off, the model sees them
      // directly and the stand-in can call one in its first answer.
      ENABLE_TOOL_SEARCH: "false",
      // Claude Code's defaults (30 s start-up) are too tight for a busy CI machine.
      MCP_TIMEOUT: "120000",
      MCP_TOOL_TIMEOUT: "120000",
      // `mcp login` would open a browser: the test drives Chromium itself, never the developer's browser.
      BROWSER: "true",
      ...env,
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `claude ARGS` in the sandbox; never throws for a non-zero exit (tests assert on it). */
export function runClaude(
  clients: RealClients,
  sandbox: ClaudeSandbox,
  args: string[],
  timeoutMs = CLAUDE_TIMEOUT_MS,
): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(
      clients.claude,
      args,
      { cwd: sandbox.cwd, env: sandbox.env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        resolve({ code, stdout, stderr: error && code === null ? `${stderr}\n${error.message}` : stderr });
      },
    );
    child.stdin?.end();
  });
}

export interface ModelSaw {
  /** The tool_result block exactly as Claude Code sent it to the model. */
  toolResult: ToolResultBlock;
  /** Its text parts joined with newlines (what the model reads as text). */
  text: string;
  /** Its image parts. */
  images: { mediaType: string; data: string }[];
  isError: boolean;
  /** Claude Code's own print-mode output, for diagnosis. */
  cli: CliRun;
}

function blocksOf(result: ToolResultBlock): ModelContentBlock[] {
  return typeof result.content === "string" ? [{ type: "text", text: result.content }] : result.content;
}

/**
 * One turn of real Claude Code in print mode: the stand-in model calls `tool` of the MCP server
 * `serverName` with `input`; returns what Claude Code handed back to the model.
 */
export async function runClaudeToolCall(
  clients: RealClients,
  options: { server: McpServerConfig; tool: string; input: unknown; serverName?: string; timeoutMs?: number },
): Promise<ModelSaw> {
  const serverName = options.serverName ?? "messages";
  const modelToolName = `mcp__${serverName}__${options.tool}`;
  const api = await startStandInModelApi({ tool: modelToolName, input: options.input });
  const sandbox = makeClaudeSandbox({ ANTHROPIC_BASE_URL: api.url });
  try {
    const mcpConfig = join(sandbox.home, "mcp.json");
    writeFileSync(mcpConfig, JSON.stringify({ mcpServers: { [serverName]: options.server } }));
    const cli = await runClaude(
      clients,
      sandbox,
      [
        "-p",
        `Use the ${options.tool} tool.`,
        "--mcp-config",
        mcpConfig,
        "--strict-mcp-config",
        "--allowedTools",
        modelToolName,
        "--output-format",
        "json",
      ],
      options.timeoutMs,
    );
    const toolResult = api.toolResult();
    if (!toolResult) {
      const offered = api.offeredTools().filter((name) => name.startsWith("mcp__"));
      throw new Error(
        `Claude Code sent no tool_result for ${modelToolName} (exit ${cli.code}; ${api.requestCount()} API ` +
          `requests; MCP tools offered: ${offered.join(", ") || "none"}).\nstdout: ${cli.stdout.slice(0, 2000)}\n` +
          `stderr: ${cli.stderr.slice(0, 2000)}`,
      );
    }
    const blocks = blocksOf(toolResult);
    return {
      toolResult,
      text: blocks
        .filter((block): block is { type: "text"; text: string } => block.type === "text")
        .map((block) => block.text)
        .join("\n"),
      images: blocks
        .filter(
          (
            block,
          ): block is Extract<ModelContentBlock, { type: "image" }> & {
            source: { media_type: string; data: string };
          } => block.type === "image",
        )
        .map((block) => ({ mediaType: block.source.media_type, data: block.source.data })),
      isError: toolResult.is_error === true,
      cli,
    };
  } finally {
    await api.close();
    sandbox.cleanup();
  }
}

/** `claude mcp …` commands in one sandbox, with a stand-in model API so nothing leaves the machine. */
export interface ClaudeCli {
  sandbox: ClaudeSandbox;
  run(args: string[], timeoutMs?: number): Promise<CliRun>;
  /** Runs `claude ARGS` on a pseudo-terminal; `onOutput` sees everything printed so far (ANSI included). */
  runInTerminal(args: string[], onOutput: (soFar: string) => void, timeoutMs?: number): Promise<CliRun>;
  close(): Promise<void>;
}

export async function startClaudeCli(clients: RealClients): Promise<ClaudeCli> {
  const api = await startStandInModelApi();
  const sandbox = makeClaudeSandbox({ ANTHROPIC_BASE_URL: api.url });
  return {
    sandbox,
    run: (args, timeoutMs) => runClaude(clients, sandbox, args, timeoutMs),
    runInTerminal: (args, onOutput, timeoutMs = CLAUDE_TIMEOUT_MS) =>
      runInPseudoTerminal(clients.claude, args, { cwd: sandbox.cwd, env: sandbox.env, onOutput, timeoutMs }),
    async close() {
      await api.close();
      sandbox.cleanup();
    },
  };
}
