#!/usr/bin/env node
// Part of `npm run build`, after tsc: replaces the compiled CLI entry (dist/src/cli/main.js, the package's
// bin) with a small launcher, and writes the whole CLI beside it as one CommonJS script (program.cjs),
// minified, which the launcher runs through V8's code cache (src/cli/code-cache.ts): module loading and
// compiling were most of start-up, and Node 20 caches compiled code only for a script (docs/performance.md).
// What start-up does not need (remote mode, the demo generator) is in the script too but initialised on
// first use, and native or rarely needed packages stay in node_modules.
// test/cli/start-up-modules.test.ts checks from esbuild's account of this build what start-up runs.
// tsc's output stays as it is: the search index worker runs from it, and the bundled code finds files
// relative to it (see forTheScript).
//
// Usage: node scripts/build-cli.mjs      (`npm run build` runs it)
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Where the launcher and the program go: the bin's own folder. */
export const CLI_OUT_DIR = join(ROOT, "dist", "src", "cli");
/** The program's file name beside the launcher (src/cli/main.ts runs it). */
export const PROGRAM_BUNDLE = "program.cjs";

/**
 * Packages loaded from node_modules rather than bundled. This list alone decides: every other package our
 * code uses is in the script, the MCP SDK, zod and commander (most of start-up) and @modelcontextprotocol/node
 * (so remote mode uses the same SDK copy) among them. Left out: native code (better-sqlite3, sharp); code
 * only some calls need that is big (pdf.js, HEIC, express, the SDK's JSON Schema validator AJV) or that no
 * server call needs (bplist-creator writes plists for the demo and tests); and unhomoglyph's confusables
 * table, a 100 KB JSON file that JSON.parse reads from node_modules in about 4 ms, where V8 took 8 ms to
 * build the same object from a literal in the script.
 */
export const EXTERNAL_PACKAGES = [
  "better-sqlite3",
  "sharp",
  "pdfjs-dist",
  "heic-convert",
  "express",
  "express-rate-limit",
  "@modelcontextprotocol/server/validators/ajv",
  "bplist-creator",
  "unhomoglyph",
];

/**
 * A package our modules load where first used, `createRequire(import.meta.url)("package")` (an ES module
 * has no require of its own: the sources run so under tsx and in tests), becomes the script's own
 * `require("package")` in the same place. esbuild then bundles the package, as a function that still runs
 * only there, unless EXTERNAL_PACKAGES names it (the launcher's require then loads it from node_modules).
 * So libphonenumber-js is in the script: loaded from node_modules, the first call that read a phone number
 * paid about 50 ms of CPU for finding, reading and compiling its hundred modules; from the script, about
 * 14 ms (docs/performance.md).
 */
const CREATE_REQUIRE_OF_PACKAGE =
  /\bcreateRequire\(import\.meta\.url\)\(\s*(["'])([^."'][^"']*)\1\s*,?\s*\)/g;

/**
 * Three rewrites of our own modules for the script they are bundled into:
 * - a package loaded with createRequire where first used is the script's require() (see above);
 * - each keeps the `import.meta.url` of its compiled file in dist/src/, so the paths it resolves from there
 *   (the index worker, the conversation view's HTML, package.json, the demo's .sql files) are the same
 *   bundled or not;
 * - an `import("package")` (pdf.js, HEIC, sharp) calls `__importPackage("package")` instead, the launcher's
 *   own import() that src/cli/code-cache.ts hands the script: in a script compiled from V8's code cache,
 *   Node 20 loses the loader an import() needs (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING). Relative imports
 *   are bundled; test/cli/start-up-modules.test.ts checks no import() of a package is left.
 */
const forTheScript = {
  name: "for-the-script",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (!args.path.startsWith(join(ROOT, "src"))) return undefined;
      const source = await readFile(args.path, "utf8");
      const compiled = join(ROOT, "dist", relative(ROOT, args.path)).replace(/\.ts$/, ".js");
      const fromBundle = relative(CLI_OUT_DIR, compiled).split("\\").join("/");
      const url = `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`;
      const contents = source
        .replace(CREATE_REQUIRE_OF_PACKAGE, "require($1$2$1)")
        .replaceAll("import.meta.url", url)
        .replace(/(?<!typeof\s+)\bimport\((["'])([^."'][^"']*)\1\)/g, "__importPackage($1$2$1)");
      return contents === source ? undefined : { contents, loader: "ts" };
    });
  },
};

/**
 * zod's `locales` namespace holds every language's error messages (~270 KB, a quarter of what start-up
 * would load), and the SDK's `import * as z` keeps all of it in the bundle. The server's errors are in
 * English, the one locale zod itself sets (it imports it directly): the namespace keeps only that one.
 */
const zodEnglishOnly = {
  name: "zod-english-only",
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), "..", "locales", "index.js"), namespace: "zod-english-only" }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "zod-english-only" }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: dirname(args.path),
      loader: "js",
    }));
  },
};

/**
 * The options the MCP SDK converts a tool's input schema to JSON Schema with (its JSON Schema target);
 * test/mcp/built-input-schemas.test.ts checks it still asks with these.
 */
export const SDK_SCHEMA_OPTIONS = { target: "draft-2020-12" };

/**
 * Writes each tool's input schema as tools/list serves it beside the compiled tool-definition module, from
 * the compiled definitions (tsc ran first), so start-up does not convert them (tool-definition.ts).
 */
async function writeInputSchemas() {
  const mcp = join(ROOT, "dist", "src", "mcp");
  const { TOOLS } = await import(pathToFileURL(join(mcp, "tool-list.js")).href);
  const definitions = await import(pathToFileURL(join(mcp, "tool-definition.js")).href);
  const built = definitions.convertInputSchemas(TOOLS, SDK_SCHEMA_OPTIONS);
  writeFileSync(join(mcp, definitions.BUILT_INPUT_SCHEMAS_FILE), `${JSON.stringify(built)}\n`);
}

/**
 * esbuild's options for the program (the start-up test checks what its entry runs at once). One CommonJS
 * script, because V8's code cache is for a script (an ES module graph has none on Node 20): the modules
 * only imported dynamically (remote mode, the demo) are in it as functions run on first use, which cost
 * nothing at start-up once the cache holds the rest. `import.meta` is the script's own.
 */
export function cliBuildOptions() {
  return {
    entryPoints: [join(ROOT, "src", "cli", "program.ts")],
    outfile: join(CLI_OUT_DIR, PROGRAM_BUNDLE),
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    // Minified names too (no keepNames: its name-setting calls ran at every start, ~3 % of start-up's
    // instructions). Nothing shown reads a function's or class's own name: our errors print their message,
    // and an Error's `name` is "Error" unless the class sets it; zod names its classes itself; commander's
    // errors take theirs from the class but are shown by message and told apart by `code`.
    minify: true,
    external: EXTERNAL_PACKAGES,
    // The SDK's Node shims import its JSON Schema validator (AJV) at once; ours load it on first use.
    alias: {
      "@modelcontextprotocol/server/_shims": join(ROOT, "src", "mcp", "lazy-json-schema-validator.ts"),
    },
    define: { "import.meta": "__importMeta" },
    banner: { js: 'var __importMeta = { url: require("node:url").pathToFileURL(__filename).href };' },
    plugins: [forTheScript, zodEnglishOnly],
    logLevel: "warning",
  };
}

/** The launcher imports the program's modules only where there is no built program: never bundled. */
const programModulesExternal = {
  name: "program-modules-external",
  setup(build) {
    build.onResolve({ filter: /^\.\/program\.js$/ }, (args) => ({ path: args.path, external: true }));
  },
};

/**
 * esbuild's options for the launcher, the bin: src/cli/main.ts and the code cache, nothing else, with the
 * program's SHA-256 written in (it names the program's code cache, and need not be computed at each start).
 */
export function launcherBuildOptions(programSha256) {
  return {
    define: { PROGRAM_SHA256: JSON.stringify(programSha256) },
    entryPoints: [join(ROOT, "src", "cli", "main.ts")],
    outfile: join(CLI_OUT_DIR, "main.js"),
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    minify: true,
    plugins: [programModulesExternal],
    logLevel: "warning",
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Chunks of earlier builds (ES modules split at the lazy imports) would only mislead: remove them.
  for (const name of readdirSync(CLI_OUT_DIR))
    if (/^chunk-\w+\.js$/.test(name)) rmSync(join(CLI_OUT_DIR, name));
  // tsc's source map describes the main.js the launcher replaces.
  rmSync(join(CLI_OUT_DIR, "main.js.map"), { force: true });
  const program = await build({ ...cliBuildOptions(), metafile: true });
  const programSha256 = createHash("sha256")
    .update(readFileSync(join(CLI_OUT_DIR, PROGRAM_BUNDLE)))
    .digest("hex");
  const launcher = await build({ ...launcherBuildOptions(programSha256), metafile: true });
  await writeInputSchemas();
  const kb = (result) => Math.round(Object.values(result.metafile.outputs)[0].bytes / 1024);
  process.stdout.write(
    `cli: ${relative(ROOT, join(CLI_OUT_DIR, "main.js"))} (${kb(launcher)} KB) runs ${PROGRAM_BUNDLE} (${kb(program)} KB)\n`,
  );
}
