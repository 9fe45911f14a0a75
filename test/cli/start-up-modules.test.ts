// Start-up loads only what answering tools/list needs: PDF, HEIC and image code, the HTTP server and OAuth,
// the demo generator, phone-number parsing, the confusables table and the plist writer are loaded when first
// used. (Start-up time itself is measured by `npm run bench`, as a ratio to a bare SDK server, never by a
// test.)
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { buildScenario, type Scenario } from "../helpers/mcp-scenario.js";
import { waitUntil } from "../helpers/wait.js";

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
  const transport = new StdioClientTransport({
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
    stderr: "ignore",
  });
  const client = new Client({ name: "start-up-modules", version: "1.0.0" });
  await client.connect(transport);
  await session(client);
  const pid = transport.pid;
  await client.close();
  // The list is completed by the server's exit handler: wait for the process to be gone.
  await waitUntil(() => {
    try {
      process.kill(pid ?? 0, 0);
      return false;
    } catch {
      return true;
    }
  }, "the server to exit");
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

test("the first tool that reads a phone number or fences text loads them", async () => {
  const loaded = await loadedModules("first-use", async (client) => {
    const result = await client.callTool({ name: "find_contact", arguments: { query: "555 010 0001" } });
    assert.notEqual(result.isError, true);
    const recent = await client.callTool({
      name: "get_recent_messages",
      arguments: { contact: "Alice Smith" },
    });
    assert.notEqual(recent.isError, true);
  });
  assert.ok(loaded.some((m) => NOT_AT_START_UP["phone numbers (libphonenumber-js)"]?.test(m)));
  assert.ok(loaded.some((m) => NOT_AT_START_UP["confusables table (unhomoglyph)"]?.test(m)));
});
