#!/usr/bin/env node
// The `mac-messages-mcp` command (program.ts). Built, this is a small launcher and the program is one
// CommonJS script beside it (program.cjs, scripts/build-cli.mjs) run through V8's code cache, kept in the
// state folder (code-cache.ts): compiling the program was most of start-up (docs/performance.md). Where
// there is no such script (from source through tsx, or tsc's output alone), the program's modules are
// imported as they are.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveStateDir } from "../config/paths.js";
import { runWithCodeCache } from "./code-cache.js";

type Program = typeof import("./program.js");
/** The built program's SHA-256, written in by the build (scripts/build-cli.mjs); not defined from source. */
declare const PROGRAM_SHA256: string | undefined;

/** The built program (the bundle's name is scripts/build-cli.mjs's PROGRAM_BUNDLE). */
const bundle = fileURLToPath(new URL("./program.cjs", import.meta.url));
const program: Program = existsSync(bundle)
  ? (runWithCodeCache(bundle, {
      cacheDir: () => join(resolveStateDir(), "code-cache"),
      sourceHash: typeof PROGRAM_SHA256 === "string" ? PROGRAM_SHA256 : undefined,
    }) as Program)
  : await import("./program.js");
await program.runProgram(process.argv);
