#!/usr/bin/env node
// The `mac-messages-mcp` command (program.ts). Built, this is a small launcher and the program is one
// CommonJS script beside it (program.cjs, scripts/build-cli.mjs) run through V8's code cache, kept in the
// state folder (code-cache.ts): compiling the program was most of start-up (docs/performance.md). Where
// there is no such script (from source through tsx, or tsc's output alone), the program's modules are
// imported as they are.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { resolveStateDir } from "../config/paths.js";
import { runWithCodeCache } from "./code-cache.js";

// V8 "pretenures" an allocation site (allocates its objects straight into the old generation) once nearly all
// the objects it made outlived a collection. A call here builds its whole answer synchronously (a page's
// messages, a bounded scan's decoded rows), and the collections that land inside such a call find them all
// alive: traced at 1M, the main thread tenured 40 sites that way, each at a survival ratio of 1.0. From then on
// the short-lived objects those sites make in every later call fill the old generation until a full
// collection. Without pretenuring the server peaked at 178–181 MB against 196–219 MB over the bench's session
// (docs/performance.md, Memory), at the same CPU. The flag only stops new decisions, so setting it here, before
// the program is compiled, is safe; it must be set at run time because NODE_OPTIONS does not accept it and a
// user's MCP client starts `node …/main.js` without our flags.
setFlagsFromString("--no-allocation-site-pretenuring");

type Program = typeof import("./program.js");
/** The built program's SHA-256, written in by the build (scripts/build-cli.mjs); not defined from source. */
declare const PROGRAM_SHA256: string | undefined;

/** The built program (the bundle's name is scripts/build-cli.mjs's PROGRAM_BUNDLE). */
const bundle = fileURLToPath(new URL("./program.cjs", import.meta.url));
const built = existsSync(bundle)
  ? runWithCodeCache(bundle, {
      cacheDir: () => join(resolveStateDir(), "code-cache"),
      sourceHash: typeof PROGRAM_SHA256 === "string" ? PROGRAM_SHA256 : undefined,
    })
  : undefined;
const program: Program = built ? (built.exports as Program) : await import("./program.js");
await program.runProgram(process.argv, { toolCallAnswered: built?.toolCallAnswered });
