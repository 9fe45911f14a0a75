// Runs the real MCP Inspector CLI (pinned 2.x, on the Node 22 it needs; see real-clients.ts):
//   inspector --cli <command…|url> --method tools/list [--header "Authorization: Bearer …"] …
// in a throw-away HOME, so its catalog (~/.mcp-inspector) never touches the developer's.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CliRun } from "./claude-code.js";
import { runInPseudoTerminal } from "./pseudo-terminal.js";
import type { RealClients } from "./real-clients.js";

export const INSPECTOR_TIMEOUT_MS = 180_000;
/**
 * Inspector gives a server 15 s to connect; a server generating its demo data on a busy two-core machine
 * can take longer.
 */
const CONNECT_TIMEOUT = ["--connect-timeout", "120000"];

function inspectorEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    LANG: "C.UTF-8",
    NO_COLOR: "1",
    // No OS keychain on a test machine: keep OAuth secrets in memory, and say so instead of warning.
    MCP_INSPECTOR_SECRET_STORE: "memory",
    // Its OAuth would open a browser: the test drives Chromium itself, never the developer's browser.
    BROWSER: "true",
  };
}

export async function runInspectorCli(
  clients: RealClients,
  args: string[],
  timeoutMs = INSPECTOR_TIMEOUT_MS,
): Promise<CliRun> {
  const home = mkdtempSync(join(tmpdir(), "mcp-inspector-"));
  try {
    return await new Promise((resolve) => {
      const child = execFile(
        clients.node22,
        [clients.inspector, "--cli", ...CONNECT_TIMEOUT, ...args],
        {
          cwd: home,
          env: inspectorEnv(home),
          timeout: timeoutMs,
          maxBuffer: 64 * 1024 * 1024,
        },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
          resolve({ code, stdout, stderr: error && code === null ? `${stderr}\n${error.message}` : stderr });
        },
      );
      child.stdin?.end();
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * The Inspector CLI on a pseudo-terminal, where it runs its own OAuth flow: it registers, prints the
 * authorization URL, and waits for the redirect on its fixed loopback callback (127.0.0.1:6276).
 */
export async function runInspectorCliInTerminal(
  clients: RealClients,
  args: string[],
  onOutput: (soFar: string) => void,
  timeoutMs = INSPECTOR_TIMEOUT_MS,
): Promise<CliRun> {
  const home = mkdtempSync(join(tmpdir(), "mcp-inspector-"));
  try {
    return await runInPseudoTerminal(
      clients.node22,
      [clients.inspector, "--cli", ...CONNECT_TIMEOUT, ...args],
      {
        cwd: home,
        env: inspectorEnv(home),
        onOutput,
        timeoutMs,
      },
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** The JSON the Inspector CLI prints for one method, or a failure that shows what it printed. */
export function inspectorJson<T>(run: CliRun): T {
  if (run.code !== 0) {
    throw new Error(
      `inspector exited ${run.code}:\n${run.stderr.slice(0, 2000)}\n${run.stdout.slice(0, 2000)}`,
    );
  }
  return JSON.parse(run.stdout) as T;
}
