// Runs a command on a pseudo-terminal, for CLIs that refuse to do interactive things (OAuth logins) without
// one — Claude Code's `mcp login`, MCP Inspector's OAuth. Node has no pty of its own; `script` (util-linux,
// in every Debian; BSD on macOS) provides one without a native add-on.
import { spawn } from "node:child_process";
import type { CliRun } from "./claude-code.js";

function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/**
 * `onOutput` sees everything printed so far (terminal escapes included) each time more arrives, and can answer
 * a prompt with `type` (what is typed goes through the terminal, as keystrokes would).
 */
export function runInPseudoTerminal(
  command: string,
  args: string[],
  options: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    onOutput: (soFar: string, type: (text: string) => void) => void;
    timeoutMs: number;
  },
): Promise<CliRun> {
  // util-linux: script -q -e -c CMD FILE; BSD (macOS): script -q FILE CMD…
  const scriptArgs =
    process.platform === "darwin"
      ? ["-q", "/dev/null", command, ...args]
      : ["-q", "-e", "-c", [command, ...args].map(shellQuote).join(" "), "/dev/null"];
  return new Promise((resolve) => {
    const child = spawn("script", scriptArgs, {
      cwd: options.cwd,
      env: { ...options.env, TERM: "xterm" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onOutput(stdout, (text) => child.stdin.write(text));
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // Killing `script` closes the terminal, which hangs up the command inside it.
    const killer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.once("error", (error) => {
      clearTimeout(killer);
      resolve({ code: null, stdout, stderr: `${stderr}\n${error.message}` });
    });
    child.once("exit", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The first `<serverUrl>/authorize?…` URL a CLI printed. Terminals get it twice (plain and inside an OSC 8
 * hyperlink escape); matching only URL characters stops at the escapes.
 */
export function authorizationUrlIn(output: string, serverUrl: string): URL | undefined {
  const prefix = `${serverUrl}/authorize?`.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const found = output.match(new RegExp(`${prefix}[\\w\\-.~:/?#@!$&'()*+,;=%]+`))?.[0];
  return found === undefined ? undefined : new URL(found);
}
