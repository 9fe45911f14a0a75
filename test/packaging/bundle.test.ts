// The Claude Desktop bundle: `npm run bundle` builds the .mcpb with Anthropic's mcpb tool, `mcpb validate`
// accepts its manifest, and the server starts from the unpacked bundle with the command, arguments and
// environment that mcpb's own getMcpConfigForManifest (what hosts use) derives from the user's settings.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { getMcpConfigForManifest } from "@anthropic-ai/mcpb";
import { type DemoPaths, generateDemo } from "../../src/demo/index.js";
import { textOf } from "../helpers/mcp-scenario.js";
import { REPO_ROOT, withPackLock } from "../helpers/packed-package.js";
import { type StdioServerCommand, withStdioSession } from "../helpers/stdio-session.js";

const run = promisify(execFile);
const MCPB = join(REPO_ROOT, "node_modules", ".bin", "mcpb");
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  description: string;
};

let root: string;
let bundleFile: string;
let unpacked: string;
let demo: DemoPaths;
// biome-ignore lint/suspicious/noExplicitAny: the manifest is whatever the bundle holds; mcpb checks it.
let manifest: any;

before(async () => {
  root = mkdtempSync(join(tmpdir(), "mmm-bundle-"));
  const { stdout } = await withPackLock(() =>
    run("npm", ["run", "--silent", "bundle", "--", "--out-dir", join(root, "out")], {
      cwd: REPO_ROOT,
      maxBuffer: 64 * 1024 * 1024,
      timeout: 20 * 60_000,
    }),
  );
  bundleFile = stdout.trim().split("\n").at(-1) ?? "";
  unpacked = join(root, "unpacked");
  mkdirSync(unpacked);
  await run(MCPB, ["unpack", bundleFile, unpacked], { timeout: 5 * 60_000, maxBuffer: 64 * 1024 * 1024 });
  manifest = JSON.parse(readFileSync(join(unpacked, "manifest.json"), "utf8"));
  demo = generateDemo({ dir: join(root, "demo") });
});

after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** The server as a host starts it for these user settings, and the configuration mcpb derived for it. */
async function bundleServer(userConfig: Record<string, string | boolean>, home: string) {
  const config = await getMcpConfigForManifest({
    manifest,
    extensionPath: unpacked,
    systemDirs: { HOME: home },
    userConfig,
    pathSeparator: "/",
  });
  assert.ok(config, "the manifest yields a server configuration");
  const server: StdioServerCommand = {
    command: config.command,
    args: config.args ?? [],
    env: { PATH: process.env.PATH ?? "", HOME: home, TMPDIR: home, ...(config.env ?? {}) },
    cwd: home,
  };
  return { server, config };
}

describe("the Claude Desktop bundle (.mcpb)", { timeout: 30 * 60_000 }, () => {
  test("npm run bundle writes a .mcpb whose manifest mcpb validate accepts", async () => {
    assert.ok(existsSync(bundleFile), `bundle at ${bundleFile}`);
    assert.match(bundleFile, new RegExp(`${pkg.name}-${pkg.version}\\.mcpb$`));
    const { stdout } = await run(MCPB, ["validate", join(unpacked, "manifest.json")], { timeout: 120_000 });
    assert.match(stdout, /valid/i);
    assert.equal(manifest.name, pkg.name);
    assert.equal(manifest.version, pkg.version);
    assert.equal(manifest.description, pkg.description);
    assert.deepEqual(Object.keys(manifest.user_config).sort(), ["chat_db", "contacts_dir", "read_only"]);
    assert.ok(existsSync(join(unpacked, manifest.server.entry_point)), "the entry point is in the bundle");
    assert.ok(existsSync(join(unpacked, "node_modules", "better-sqlite3")), "dependencies are bundled");
    assert.ok(!existsSync(join(unpacked, "node_modules", "typescript")), "dev dependencies are not");
    // Pruned in the bundle's copy only: a worktree's node_modules is a link to another checkout's.
    assert.ok(existsSync(join(REPO_ROOT, "node_modules", "typescript")), "this checkout keeps its own");
  });

  test("with the user's chat.db, contacts folder and read-only switch, the server uses all three", async () => {
    const home = mkdtempSync(join(root, "home-"));
    const { server, config } = await bundleServer(
      { chat_db: demo.chatDb, contacts_dir: demo.contactsRoot, read_only: true },
      home,
    );
    await withStdioSession(server, async ({ client }) => {
      assert.equal(config.env?.MAC_MESSAGES_DB, demo.chatDb);
      const { tools } = await client.listTools();
      const names = tools.map((tool) => tool.name);
      assert.ok(names.includes("get_recent_messages"));
      assert.ok(!names.includes("send_message"), `read-only: no send tool (got ${names.join(", ")})`);
      const found = await client.callTool({ name: "find_contact", arguments: { query: "Liam Carter" } });
      assert.equal(found.isError, undefined, textOf(found));
      assert.match(textOf(found), /Liam Carter/, "names come from the chosen contacts folder");
      const setup = await client.callTool({ name: "check_setup", arguments: {} });
      assert.match(textOf(setup), new RegExp(demo.chatDb.replaceAll("/", "\\/")), "reads the chosen chat.db");
    });
  });

  test("with no settings, it starts on the defaults (the demo where there is no chat.db) and can send", async () => {
    const home = mkdtempSync(join(root, "home-"));
    const { server } = await bundleServer({}, home);
    await withStdioSession(server, async ({ client, stderr }) => {
      const { tools } = await client.listTools();
      assert.ok(
        tools.some((tool) => tool.name === "send_message"),
        "not read-only by default",
      );
      const chats = await client.callTool({ name: "list_chats", arguments: { limit: 3 } });
      assert.equal(chats.isError, undefined, textOf(chats));
      assert.match(stderr(), /demo/i, "says it serves the demo data");
    });
  });
});
