// The tool list as the one source: strict arguments (with hints for the Python server's names), what each
// permission sees, the server instructions and the README table derived from it.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { READ_TOOL_NAMES, SEND_TOOL_NAMES, TOOLS, toolsForPermissions } from "../../src/mcp/index.js";
import { TOOL_TABLE_END, TOOL_TABLE_START, toolTable } from "../../src/mcp/tool-docs.js";
import { MessageSender } from "../../src/send/index.js";
import { MessageScheduler } from "../../src/send/scheduler.js";
import { type FakeOsascript, installFakeOsascript } from "../helpers/fake-osascript.js";
import { buildScenario, type Connected, call, connect, type Scenario } from "../helpers/mcp-scenario.js";

let scenario: Scenario;
let fake: FakeOsascript;
let stateDir: string;
let conn: Connected;

before(async () => {
  scenario = buildScenario();
  fake = await installFakeOsascript({ stdout: "sent" });
  stateDir = mkdtempSync(join(tmpdir(), "tool-list-"));
  const sender = new MessageSender({ env: fake.env });
  const scheduler = new MessageScheduler({ stateDir, sender, checkIntervalMs: 60_000 });
  conn = await connect({
    chatDb: scenario.chatDb,
    contactsRoots: [scenario.contactsRoot],
    sender,
    scheduler,
  });
});

after(async () => {
  await conn?.close();
  await fake?.cleanup();
  scenario?.cleanup();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe("strict arguments", () => {
  test('{"chat_id": "chat:25"} is refused, naming chat_id and the argument to use, instead of every chat', async () => {
    const { result, text } = await call(conn.client, "get_recent_messages", { chat_id: "chat:25" });
    assert.equal(result.isError, true, text);
    assert.match(text, /Unknown argument chat_id\b/);
    assert.match(text, /instead of chat_id, use chat \(chat:<id> from list_chats/);
    assert.match(text, /get_recent_messages takes: hours, start_date, end_date, contact, chat,/);
    assert.doesNotMatch(text, /\bat \w+ \(|node:internal/, "no stack trace");
  });

  test("the Python server's names point at ours; unknown names are listed, nothing is sent", async () => {
    const before = (await fake.calls()).length;
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["search_messages", { search_term: "cafe" }, /instead of search_term, use query/],
      ["search_messages", { query: "cafe", threshold: 0.6 }, /instead of threshold, use mode \(mode "fuzzy"/],
      ["send_message", { recipient: "Bob", message: "hi" }, /instead of message, use text/],
      [
        "send_message",
        { recipient: "chat:1", text: "hi", group_chat: true },
        /instead of group_chat, use recipient/,
      ],
      ["find_contact", { name: "Alice" }, /instead of name, use query/],
      ["get_attachment", { attachment_id: 1 }, /instead of attachment_id, use id/],
      ["search_attachments", { mime_type: "image/" }, /instead of mime_type, use mime_prefix/],
      ["get_recent_messages", { after: "2025-01-01" }, /instead of after, use start_date/],
      ["search_messages", { query: "x", hours: 24 }, /instead of hours, use start_date \(a day such as/],
      ["wait_for_new_messages", { sinceRowid: 5 }, /instead of sinceRowid, use since_rowid/],
    ];
    for (const [tool, args, hint] of cases) {
      const { result, text } = await call(conn.client, tool, args);
      assert.equal(result.isError, true, `${tool} ${JSON.stringify(args)}: ${text}`);
      assert.match(text, hint, tool);
    }
    const { text } = await call(conn.client, "list_chats", { colour: "blue", size: 2 });
    assert.match(text, /Unknown arguments colour, size: list_chats does not take them/);
    assert.match(text, /list_chats takes: unread_only, since_hours, limit, cursor, timezone, format\./);
    const setup = await call(conn.client, "check_setup", { verbose: true });
    assert.match(setup.text, /check_setup takes: format\./);
    assert.equal((await fake.calls()).length, before, "no refused call reached osascript");
  });

  test("every tool's served input schema refuses additional properties", async () => {
    const { tools } = await conn.client.listTools();
    assert.equal(tools.length, TOOLS.length, "this server offers every tool");
    for (const tool of tools) assert.equal(tool.inputSchema.additionalProperties, false, tool.name);
  });
});

describe("one list", () => {
  test("permissions: a read-only grant does not even list the send tools", async () => {
    const readOnly = await connect({
      chatDb: scenario.chatDb,
      sender: new MessageSender({ env: fake.env }),
      permissions: ["read"],
    });
    try {
      const names = (await readOnly.client.listTools()).tools.map((t) => t.name).sort();
      assert.deepEqual(names, [...READ_TOOL_NAMES].sort());
      assert.doesNotMatch(readOnly.client.getInstructions() ?? "", /send_message/);
    } finally {
      await readOnly.close();
    }
    assert.deepEqual(
      toolsForPermissions(["read"]).map((t) => t.name),
      TOOLS.filter((t) => t.permission === "read").map((t) => t.name),
    );
    assert.deepEqual(
      toolsForPermissions(["read", "send"], { scheduler: false }).map((t) => t.name),
      TOOLS.filter((t) => t.needs === undefined).map((t) => t.name),
    );
    for (const name of SEND_TOOL_NAMES) {
      const tool = TOOLS.find((t) => t.name === name);
      assert.equal(tool?.annotations.readOnlyHint, false, `${name} is not read-only`);
    }
    for (const tool of TOOLS.filter((t) => t.permission === "read")) {
      assert.equal(tool.annotations.readOnlyHint, true, `${tool.name} is read-only`);
    }
  });

  test("one file per tool, named after it; tools import the shared core, never each other", () => {
    // Tools live in src/mcp/tools/, except a tool that is an MCP Apps view's entry, which lives with its view
    // in src/mcp/apps/.
    const folders = ["tools", "apps"].map((name) => new URL(`../../src/mcp/${name}/`, import.meta.url));
    const [toolsFolder] = folders;
    const fileOf = (name: string) => `${name.replaceAll("_", "-")}.ts`;
    const toolFiles = readdirSync(toolsFolder!).filter((f) => f.endsWith(".ts"));
    for (const tool of TOOLS) {
      const home = folders.find((folder) => readdirSync(folder).includes(fileOf(tool.name)));
      assert.ok(home, `${tool.name} lives in tools/ or apps/ as ${fileOf(tool.name)}`);
      const source = readFileSync(new URL(fileOf(tool.name), home), "utf8");
      assert.equal(
        source.match(/\bdefineTool\(/g)?.length,
        1,
        `${fileOf(tool.name)} defines exactly one tool`,
      );
      assert.doesNotMatch(source, /from "\.\.\/tools\//, `${fileOf(tool.name)} imports a tool`);
      if (home === toolsFolder)
        assert.doesNotMatch(source, /from "\.\//, `${fileOf(tool.name)} imports another tool`);
    }
    assert.deepEqual(
      toolFiles.filter((file) => !TOOLS.some((tool) => fileOf(tool.name) === file)),
      [],
      "nothing but tools in tools/",
    );
  });

  test("every description is one or two sentences that say when to use the tool", () => {
    for (const tool of TOOLS) {
      // Sentence ends: ". " or a final "."; "e.g." and "etc." do not end one.
      const sentences = tool.description.replace(/\b(e\.g|i\.e|etc)\./g, "$1").split(/[.!?](?:\s|$)/);
      const count = sentences.filter((s) => s.trim() !== "").length;
      assert.ok(count >= 1 && count <= 2, `${tool.name}: ${count} sentences`);
      assert.match(
        tool.description,
        /\b(Use|use) (it|this|search_|get_|list_)|\bwhen\b/,
        `${tool.name} says when`,
      );
      assert.ok(tool.description.length <= 300, `${tool.name}: ${tool.description.length} characters`);
    }
  });

  test("README's tool table is the generated one (npm run docs:tools)", () => {
    const readme = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");
    const start = readme.indexOf(TOOL_TABLE_START);
    const end = readme.indexOf(TOOL_TABLE_END);
    assert.ok(start !== -1 && end > start, "README.md has the tool table markers");
    const section = readme.slice(start + TOOL_TABLE_START.length, end).trim();
    assert.equal(section, toolTable(TOOLS), "README.md tool table is stale: run npm run docs:tools");
    for (const tool of TOOLS) assert.ok(section.includes(`\`${tool.name}\``), tool.name);
  });
});
