#!/usr/bin/env node
// Part of `npm run build`, after tsc: replaces the compiled CLI entry (dist/src/cli/main.js, the package's
// bin) with an esbuild bundle of the CLI, minified, so that start-up reads and compiles three files instead
// of ~240 modules (zod alone is ~100): module loading and compiling were most of start-up
// (docs/performance.md). What start-up does not need lands in chunks beside it, loaded on first use (remote
// mode, the demo generator), and native or rarely needed packages stay in node_modules.
// test/cli/start-up-modules.test.ts checks from esbuild's account of this build what start-up loads.
// tsc's output stays as it is: the search index worker runs from it, and the bundled code finds files
// relative to it (see keepModuleUrls).
//
// Usage: node scripts/build-cli.mjs      (`npm run build` runs it)
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Where the bundle goes: the bin's own folder, every chunk beside it. */
export const CLI_OUT_DIR = join(ROOT, "dist", "src", "cli");

/**
 * Packages loaded from node_modules rather than bundled: native code (better-sqlite3, sharp), and packages
 * only some calls need, which are big (pdfjs-dist) or are loaded through createRequire already
 * (libphonenumber-js, bplist-creator, unhomoglyph). The MCP SDK, zod and commander are bundled: they are
 * most of start-up. @modelcontextprotocol/node is bundled too, so remote mode uses the same SDK copy.
 */
export const EXTERNAL_PACKAGES = [
  "better-sqlite3",
  "sharp",
  "pdfjs-dist",
  "heic-convert",
  "express",
  "express-rate-limit",
  "libphonenumber-js",
  "bplist-creator",
  "unhomoglyph",
];

/**
 * Each bundled module of ours keeps the `import.meta.url` of its compiled file in dist/src/, so the paths
 * it resolves from there (the index worker, the conversation view's HTML, package.json, the demo's .sql
 * files) are the same bundled or not.
 */
const keepModuleUrls = {
  name: "keep-module-urls",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (!args.path.startsWith(join(ROOT, "src"))) return undefined;
      const source = await readFile(args.path, "utf8");
      if (!source.includes("import.meta.url")) return undefined;
      const compiled = join(ROOT, "dist", relative(ROOT, args.path)).replace(/\.ts$/, ".js");
      const fromBundle = relative(CLI_OUT_DIR, compiled).split("\\").join("/");
      const url = `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`;
      return { contents: source.replaceAll("import.meta.url", url), loader: "ts" };
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

/** esbuild's options for the CLI bundle (the start-up test checks what its entry loads). */
export function cliBuildOptions() {
  return {
    entryPoints: { main: join(ROOT, "src", "cli", "main.ts") },
    outdir: CLI_OUT_DIR,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    minify: true,
    // Error and class names stay readable in messages and logs.
    keepNames: true,
    external: EXTERNAL_PACKAGES,
    chunkNames: "chunk-[hash]",
    // The SDK's Node shims import its JSON Schema validator (AJV) at once; ours load it on first use.
    alias: {
      "@modelcontextprotocol/server/_shims": join(ROOT, "src", "mcp", "lazy-json-schema-validator.ts"),
    },
    // Bundled CommonJS (commander) calls require for Node's own modules.
    banner: {
      js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);',
    },
    plugins: [keepModuleUrls, zodEnglishOnly],
    logLevel: "warning",
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Chunks of an earlier build have other names: remove them, so the folder holds this build only.
  for (const name of readdirSync(CLI_OUT_DIR))
    if (/^chunk-\w+\.js$/.test(name)) rmSync(join(CLI_OUT_DIR, name));
  // tsc's source map describes the main.js the bundle replaces.
  rmSync(join(CLI_OUT_DIR, "main.js.map"), { force: true });
  const result = await build({ ...cliBuildOptions(), metafile: true });
  await writeInputSchemas();
  const outputs = Object.entries(result.metafile.outputs);
  const bytes = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
  process.stdout.write(
    `cli bundle: ${relative(ROOT, join(CLI_OUT_DIR, "main.js"))} and ${outputs.length - 1} chunks, ${Math.round(bytes / 1024)} KB\n`,
  );
}
