// Runs the real MCP Inspector CLI (pinned 2.x, on the Node 22 it needs; see real-clients.ts):
//   inspector --cli <command…|url> --method tools/list [--header "Authorization: Bearer …"] …
// in a throw-away HOME, so its catalog (~/.mcp-inspector) never touches the developer's.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CliRun } from "./claude-code.js";
import type { RealClients } from "./real-clients.js";

export const INSPECTOR_TIMEOUT_MS = 180_000;

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
        [clients.inspector, "--cli", ...args],
        {
          cwd: home,
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, LANG: "C.UTF-8", NO_COLOR: "1" },
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

/** The JSON the Inspector CLI prints for one method, or a failure that shows what it printed. */
export function inspectorJson<T>(run: CliRun): T {
  if (run.code !== 0) {
    throw new Error(
      `inspector exited ${run.code}:\n${run.stderr.slice(0, 2000)}\n${run.stdout.slice(0, 2000)}`,
    );
  }
  return JSON.parse(run.stdout) as T;
}
