// Runs test/helpers/chatdb-writer-child.ts (a separate process playing Messages.app on a chat.db) to
// completion; resolves with what it printed.
import { type ChildProcess, spawn } from "node:child_process";

const CHILD = new URL("./chatdb-writer-child.ts", import.meta.url).pathname;

export function runChatDbWriter(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`writer exited ${code}: ${err}`)),
    );
  });
}
