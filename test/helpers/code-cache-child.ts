// Child process for test/cli/code-cache.test.ts: runs the CommonJS script named by its first argument
// through the CLI's code cache (src/cli/code-cache.ts) with the cache folder named by the second ("-" for
// none to be had, as with no home) and the script's hash from CODE_CACHE_SOURCE_HASH when set (as the
// build gives it), prints the script's `answer` export, and stays up until its stdin closes, so that the
// cache is written as by a running server. Each line "call" on its stdin stands for a tool call answered,
// as the stdio server reports one (src/cli/stdio.ts); "called" on stdout says it was reported.
import { runWithCodeCache } from "../../src/cli/code-cache.js";

const [script, cacheDir] = process.argv.slice(2);
if (!script || !cacheDir) throw new Error("usage: code-cache-child <script.cjs> <cache folder | ->");
const run = runWithCodeCache(script, {
  cacheDir: () => {
    if (cacheDir === "-") throw new Error("no home folder");
    return cacheDir;
  },
  sourceHash: process.env.CODE_CACHE_SOURCE_HASH,
});
process.stdout.write(`answer ${String((run.exports as { answer?: unknown }).answer)}\n`);
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  for (const line of chunk.split("\n")) {
    if (line.trim() !== "call") continue;
    run.toolCallAnswered();
    process.stdout.write("called\n");
  }
});
process.stdin.on("end", () => process.exit(0));
