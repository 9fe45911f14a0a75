// The real createMcpServer with everything wired: which tools exist for which deps, the send-scope list,
// resource subscriptions on/off, search through the side index (with MCP progress), the scheduler.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { READ_TOOL_NAMES, SEND_TOOL_NAMES } from "../../src/mcp/index.js";
import { IndexedMessagesReader, openMessagesStore } from "../../src/messages/index.js";
import { MessageSender } from "../../src/send/index.js";
import { MessageScheduler, SCHEDULE_FILE } from "../../src/send/scheduler.js";
import { type FakeOsascript, installFakeOsascript } from "../helpers/fake-osascript.js";
import { buildScenario, call, connect, PHONES, type Scenario } from "../helpers/mcp-scenario.js";

let scenario: Scenario;
let fake: FakeOsascript;
let stateDir: string;

before(async () => {
  scenario = buildScenario();
  fake = await installFakeOsascript();
  stateDir = mkdtempSync(join(tmpdir(), "mcp-wiring-state-"));
});

after(async () => {
  await fake?.cleanup();
  scenario?.cleanup();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

async function toolNames(
  options: Parameters<typeof connect>[0],
): Promise<{ names: string[]; instructions: string }> {
  const conn = await connect(options);
  try {
    const { tools } = await conn.client.listTools();
    return { names: tools.map((t) => t.name).sort(), instructions: conn.client.getInstructions() ?? "" };
  } finally {
    await conn.close();
  }
}

describe("tool registration", () => {
  test("send-scope tools are exactly the ones that send, queue, cancel or write Contacts", () => {
    assert.deepEqual([...SEND_TOOL_NAMES].sort(), [
      "cancel_scheduled_message",
      "create_contact",
      "schedule_message",
      "send_message",
    ]);
    for (const name of SEND_TOOL_NAMES) assert.ok(!(READ_TOOL_NAMES as readonly string[]).includes(name));
  });

  test("read-only: read tools only; sender: plus send/create; sender+scheduler: plus the schedule tools", async () => {
    const sender = new MessageSender({ env: fake.env });
    const scheduler = new MessageScheduler({ stateDir: join(stateDir, "listing"), sender });
    const base = { chatDb: scenario.chatDb, contactsRoots: [scenario.contactsRoot] };

    const readOnly = await toolNames(base);
    assert.deepEqual(readOnly.names, [...READ_TOOL_NAMES].sort());
    assert.doesNotMatch(readOnly.instructions, /schedule_message|create_contact/);

    const sending = await toolNames({ ...base, sender });
    assert.deepEqual(sending.names, [...READ_TOOL_NAMES, "send_message", "create_contact"].sort());
    assert.match(sending.instructions, /create_contact/);
    assert.doesNotMatch(sending.instructions, /schedule_message/, "no scheduler, no promise of scheduling");

    const all = await toolNames({ ...base, sender, scheduler });
    assert.deepEqual(all.names, [...READ_TOOL_NAMES, ...SEND_TOOL_NAMES, "list_scheduled_messages"].sort());
    for (const name of all.names)
      assert.match(all.instructions, new RegExp(`\\b${name}\\b`), "instructions name every tool");

    const scheduledButReadOnly = await toolNames({ ...base, scheduler });
    assert.deepEqual(
      scheduledButReadOnly.names,
      [...READ_TOOL_NAMES].sort(),
      "read-only wins over a scheduler",
    );
  });

  test("chat subscriptions are on by default and off for per-request servers", async () => {
    const on = await connect({ chatDb: scenario.chatDb });
    const off = await connect({ chatDb: scenario.chatDb, subscriptions: false });
    try {
      assert.equal(on.client.getServerCapabilities()?.resources?.subscribe, true);
      await on.client.subscribeResource({ uri: `messages://chat/${scenario.chats.group}` });
      assert.notEqual(off.client.getServerCapabilities()?.resources?.subscribe, true);
      await assert.rejects(off.client.subscribeResource({ uri: `messages://chat/${scenario.chats.group}` }));
    } finally {
      await on.close();
      await off.close();
    }
  });
});

describe("search through the side index", () => {
  let indexDir: string;
  before(() => {
    indexDir = mkdtempSync(join(tmpdir(), "mcp-wiring-index-"));
  });
  after(() => rmSync(indexDir, { recursive: true, force: true }));

  test("a progressToken makes search_messages wait for the index and report progress; answers match the scan", async () => {
    const reader = IndexedMessagesReader.open(openMessagesStore(scenario.chatDb), { stateDir: indexDir });
    const indexed = await connect({ chatDb: scenario.chatDb, reader });
    const plain = await connect({ chatDb: scenario.chatDb });
    try {
      assert.equal(reader.indexReady, false);
      const progress: { progress: number; total?: number }[] = [];
      const result = await indexed.client.callTool(
        { name: "search_messages", arguments: { query: "invoice" } },
        { onprogress: (p) => progress.push(p) },
      );
      assert.equal(result.isError, undefined);
      assert.ok(progress.length > 0, "progress notifications arrived");
      const last = progress.at(-1);
      assert.ok(last && last.progress > 0 && last.progress === last.total, "the last notification says done");
      assert.equal(reader.indexReady, true, "the search waited for the index");

      for (const args of [
        { query: "invoice" },
        { query: "CAFÉ BY" },
        { query: "lnuch tomorow", mode: "fuzzy" },
        { query: "invoce" },
        { query: "launch", mode: "fuzzy", limit: 1 },
      ]) {
        const fromIndex = await call(indexed.client, "search_messages", args);
        const fromScan = await call(plain.client, "search_messages", args);
        assert.deepEqual(fromIndex.data, fromScan.data, JSON.stringify(args));
      }
      const fuzzy = await call(indexed.client, "search_messages", { query: "lnuch tomorow", mode: "fuzzy" });
      assert.deepEqual(
        fuzzy.data.messages.map((m) => m.id),
        [scenario.messages.lunch],
      );
    } finally {
      await indexed.close();
      await plain.close();
    }
  });

  test("fuzzy pages follow the cursor without repeats", async () => {
    const conn = await connect({ chatDb: scenario.chatDb });
    try {
      const all = await call(conn.client, "search_messages", { query: "the", mode: "fuzzy", limit: 500 });
      assert.ok(all.data.messages.length >= 3, "several matches to page through");
      const seen: number[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 20; page++) {
        const next = await call(conn.client, "search_messages", {
          query: "the",
          mode: "fuzzy",
          limit: 1,
          ...(cursor ? { cursor } : {}),
        });
        seen.push(...next.data.messages.map((m) => m.id));
        cursor = next.data.nextCursor ?? undefined;
        if (!cursor) break;
      }
      assert.deepEqual(
        seen,
        all.data.messages.map((m) => m.id),
      );
    } finally {
      await conn.close();
    }
  });
});

describe("scheduler through the real server", () => {
  test("schedule, list, cancel; an unreadable scheduled.json is reported in plain words", async () => {
    const dir = join(stateDir, "scheduling");
    const sender = new MessageSender({ env: fake.env });
    const scheduler = new MessageScheduler({ stateDir: dir, sender });
    const conn = await connect({
      chatDb: scenario.chatDb,
      contactsRoots: [scenario.contactsRoot],
      sender,
      scheduler,
    });
    try {
      const sendAt = new Date(Date.now() + 2 * 3_600_000).toISOString();
      const scheduled = await conn.client.callTool({
        name: "schedule_message",
        arguments: { recipient: "Bob Stone", text: "Bring the map", send_at: sendAt, format: "json" },
      });
      assert.equal(scheduled.isError, undefined);
      const entry = (scheduled.structuredContent as { scheduled: { id: string; recipient: string } })
        .scheduled;
      assert.match(entry.recipient, new RegExp(`Bob Stone \\(\\${PHONES.bob}\\)`));
      const listed = await conn.client.callTool({
        name: "list_scheduled_messages",
        arguments: { format: "json" },
      });
      assert.equal((listed.structuredContent as { count: number }).count, 1);
      const cancelled = await conn.client.callTool({
        name: "cancel_scheduled_message",
        arguments: { id: entry.id },
      });
      assert.equal(cancelled.isError, undefined);
      assert.equal((await fake.calls()).length, 0, "nothing was sent");

      rmSync(join(dir, SCHEDULE_FILE));
      mkdirSync(join(dir, SCHEDULE_FILE));
      const broken = await call(conn.client, "list_scheduled_messages", {});
      assert.equal(broken.result.isError, true);
      assert.match(broken.text, /^Cannot read the scheduled messages \(.*scheduled\.json\)/);
      assert.doesNotMatch(broken.text, /Something went wrong/);
    } finally {
      await scheduler.stop();
      await conn.close();
    }
  });
});
