// Start-up loads only what answering tools/list needs: PDF, HEIC and image code, the HTTP server and OAuth,
// the demo generator, phone-number parsing, the confusables table and the plist writer are loaded when first
// used. Checked twice: the modules the server loads from source, recorded as it runs, and the modules the
// built CLI's one script (scripts/build-cli.mjs) runs at once rather than on first use, from esbuild's own
// account of it. (Start-up time itself is measured by `npm run bench`, as a ratio to a bare SDK server, never by a
// test.)
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Client } from "@modelcontextprotocol/client";
import { build, type Metafile } from "esbuild";
// @ts-expect-error: a plain-JavaScript build script, no declarations.
import { cliBuildOptions, launcherBuildOptions } from "../../scripts/build-cli.mjs";
import { buildScenario, type Scenario } from "../helpers/mcp-scenario.js";
import { withStdioSession } from "../helpers/stdio-session.js";

const ROOT = join(import.meta.dirname, "..", "..");
const PRELOAD = join(ROOT, "test", "helpers", "loaded-modules.mjs");

/** Loaded only on first use: each pattern names a module (or folder) tools/list must not need. */
const NOT_AT_START_UP: Record<string, RegExp> = {
  "PDF text (pdfjs-dist)": /node_modules\/pdfjs-dist\//,
  "image conversion (sharp)": /node_modules\/sharp\//,
  "HEIC decoding (heic-convert)": /node_modules\/heic-convert\//,
  "HTTP server (express)": /node_modules\/express\//,
  "remote mode and OAuth (src/remote)": /\/src\/remote\//,
  "demo generator (src/demo)": /\/src\/demo\//,
  "phone numbers (libphonenumber-js)": /node_modules\/libphonenumber-js\//,
  "confusables table (unhomoglyph)": /node_modules\/unhomoglyph\//,
  "writing binary plists (bplist-creator)": /node_modules\/(bplist-creator|stream-buffers)\//,
};

let scenario: Scenario;
let home: string;

before(() => {
  scenario = buildScenario();
  home = mkdtempSync(join(tmpdir(), "start-up-modules-"));
});

after(() => {
  scenario?.cleanup();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** Serves the scenario over stdio, runs `session`, and returns the modules the server process loaded. */
async function loadedModules(name: string, session: (client: Client) => Promise<void>): Promise<string[]> {
  const file = join(home, `${name}.txt`);
  const server = {
    command: process.execPath,
    args: [
      "--import",
      "tsx",
      "--import",
      PRELOAD,
      join(ROOT, "src", "cli", "main.ts"),
      "--db",
      scenario.chatDb,
      "--contacts-dir",
      scenario.contactsRoot,
    ],
    env: {
      HOME: home,
      PATH: process.env.PATH ?? "",
      MAC_MESSAGES_MCP_HOME: join(home, `state-${name}`),
      LOADED_MODULES_FILE: file,
    },
  };
  // The list is completed by the server's exit handler: the session ends once the process is gone.
  await withStdioSession(server, ({ client }) => session(client));
  return readFileSync(file, "utf8").split("\n").filter(Boolean);
}

test("answering tools/list loads none of the code kept for first use", async () => {
  const loaded = await loadedModules("tools-list", async (client) => {
    const { tools } = await client.listTools();
    assert.ok(tools.length > 10);
  });
  // The recording works: the server itself and a CommonJS dependency (through require) are listed.
  assert.ok(loaded.some((m) => m.includes("/src/mcp/server.ts")));
  assert.ok(loaded.some((m) => m.includes("node_modules/better-sqlite3/")));
  const early = Object.entries(NOT_AT_START_UP)
    .filter(([, pattern]) => loaded.some((m) => pattern.test(m)))
    .map(([what]) => what);
  assert.deepEqual(early, [], `loaded at start-up: ${early.join(", ")}`);
});

test("the first tool that reads a phone number or fences text that could hold a tag loads them", async () => {
  const loaded = await loadedModules("first-use", async (client) => {
    const result = await client.callTool({ name: "find_contact", arguments: { query: "555 010 0001" } });
    assert.notEqual(result.isError, true);
    // Back to Alice's oldest message, whose "&" could start a tag ("&lt;"): the fence folds it, with the table.
    const recent = await client.callTool({
      name: "get_recent_messages",
      arguments: { contact: "Alice Smith", start_date: "2001-01-02" },
    });
    assert.notEqual(recent.isError, true);
  });
  assert.ok(loaded.some((m) => NOT_AT_START_UP["phone numbers (libphonenumber-js)"]?.test(m)));
  assert.ok(loaded.some((m) => NOT_AT_START_UP["confusables table (unhomoglyph)"]?.test(m)));
});

/**
 * What the built program runs at start: src/cli/program.ts and every module it imports statically, to the
 * end; the modules only imported dynamically (remote mode, the demo) are in the same script but initialised
 * on first use, as are the packages it imports through the launcher (see the last test). So are the
 * packages our modules load with `createRequire` where first used (phone numbers),
 * which the build turns into the script's own require() there: a `require-call` from src/, whose place in a
 * function rather than at the top of its module the first test checks by running the sources. Each as a
 * path a NOT_AT_START_UP pattern can match: bundled sources and packages by their own paths, packages left
 * in node_modules as `node_modules/<name>/`.
 */
function bundleStartUpModules(metafile: Metafile): string[] {
  const inputs = metafile.inputs;
  const entry = "src/cli/program.ts";
  assert.ok(inputs[entry], "the bundle has the CLI's program");
  const queue = [entry];
  const seen = new Set<string>();
  const modules: string[] = [];
  while (queue.length > 0) {
    const path = queue.shift() as string;
    if (seen.has(path)) continue;
    seen.add(path);
    const input = inputs[path];
    assert.ok(input, `${path} is an input of the bundle`);
    modules.push(`/${path}`);
    for (const imported of input.imports) {
      if (imported.kind === "dynamic-import" || imported.path === "<runtime>") continue;
      if (imported.kind === "require-call" && path.startsWith("src/")) continue;
      if (imported.external) modules.push(`node_modules/${imported.path}/`);
      else queue.push(imported.path);
    }
  }
  return modules;
}

test("the built CLI's program runs none of the code kept for first use before it is used", async () => {
  const { metafile, outputFiles } = await build({
    ...cliBuildOptions(),
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  assert.ok(metafile);
  const loaded = bundleStartUpModules(metafile);
  // The account is complete: the MCP server, the SDK and zod are bundled and run; SQLite from node_modules.
  assert.ok(loaded.some((m) => m.endsWith("/src/mcp/server.ts")));
  assert.ok(loaded.some((m) => m.includes("node_modules/zod/")));
  assert.ok(loaded.includes("node_modules/better-sqlite3/"));
  const early = Object.entries(NOT_AT_START_UP)
    .filter(([, pattern]) => loaded.some((m) => pattern.test(m)))
    .map(([what]) => what);
  assert.deepEqual(early, [], `loaded at start-up: ${early.join(", ")}`);
  // Nor is the SDK's JSON Schema validator (AJV): the bundle's stand-in loads it on first use.
  assert.deepEqual(
    loaded.filter((m) => /ajv/i.test(m)),
    [],
  );
  // ... and remote mode is in the script, to be initialised later; so is the phone-number library, rather
  // than found and compiled module by module in node_modules when first used.
  const everything = Object.entries(metafile.inputs).flatMap(([path, input]) => [
    `/${path}`,
    ...input.imports.filter((i) => i.external).map((i) => `node_modules/${i.path}/`),
  ]);
  for (const what of ["HTTP server (express)", "remote mode and OAuth (src/remote)"]) {
    assert.ok(
      everything.some((m) => NOT_AT_START_UP[what]?.test(m)),
      `${what} is in the bundle`,
    );
  }
  assert.ok(
    Object.keys(metafile.inputs).some((path) =>
      NOT_AT_START_UP["phone numbers (libphonenumber-js)"]?.test(path),
    ),
    "libphonenumber-js is bundled into the script",
  );
  // No import() of a package is left in the script: in a script compiled from V8's code cache, Node 20 has
  // no loader for it (src/cli/code-cache.ts). The build hands those to the launcher's import() instead.
  const packageImports = Object.entries(metafile.inputs).flatMap(([path, input]) =>
    input.imports.filter((i) => i.kind === "dynamic-import" && i.external).map((i) => `${path} → ${i.path}`),
  );
  assert.deepEqual(packageImports, []);
  const script = outputFiles?.[0]?.text ?? "";
  assert.match(script, /__importPackage\("pdfjs-dist\/legacy\/build\/pdf\.mjs"\)/);
});

test("the built CLI's launcher holds none of the program: it runs it, or imports it where there is none", async () => {
  const { metafile } = await build({
    ...launcherBuildOptions("0".repeat(64)),
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  assert.ok(metafile);
  const inputs = Object.keys(metafile.inputs);
  assert.ok(inputs.includes("src/cli/code-cache.ts"));
  assert.ok(!inputs.some((path) => /node_modules|src\/(mcp|messages)\//.test(path)), inputs.join(", "));
  const imported = Object.values(metafile.inputs).flatMap((input) =>
    input.imports.filter((i) => i.external && !i.path.startsWith("node:")).map((i) => i.path),
  );
  assert.deepEqual(imported, ["./program.js"]);
});
