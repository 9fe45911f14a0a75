// A snapshot per tool of what tools/list serves (name, title, description, schemas, annotations) plus the
// permission it needs, so any change to a tool's face shows in review. After an intended change:
//   npm run snapshots:tools
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { TOOLS } from "../../src/mcp/index.js";
import { MessageSender } from "../../src/send/index.js";
import { MessageScheduler } from "../../src/send/scheduler.js";
import { buildScenario, type Connected, connect, type Scenario } from "../helpers/mcp-scenario.js";

const SNAPSHOT_DIR = join(import.meta.dirname, "tool-snapshots");
const UPDATE = process.env.UPDATE_TOOL_SNAPSHOTS === "1";

let scenario: Scenario;
let stateDir: string;
let conn: Connected;

before(async () => {
  scenario = buildScenario();
  stateDir = mkdtempSync(join(tmpdir(), "tool-snapshots-"));
  const sender = new MessageSender({});
  conn = await connect({
    chatDb: scenario.chatDb,
    sender,
    scheduler: new MessageScheduler({ stateDir, sender, checkIntervalMs: 60_000 }),
  });
});

after(async () => {
  await conn?.close();
  scenario?.cleanup();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

test("each tool matches its snapshot (npm run snapshots:tools after an intended change)", async () => {
  const { tools } = await conn.client.listTools();
  assert.deepEqual(
    tools.map((t) => t.name),
    TOOLS.map((t) => t.name),
    "the server lists every tool of the list, in its order",
  );
  if (UPDATE) mkdirSync(SNAPSHOT_DIR, { recursive: true });
  for (const served of tools) {
    const snapshot = {
      permission: TOOLS.find((t) => t.name === served.name)?.permission,
      ...served,
    };
    const text = `${JSON.stringify(snapshot, null, 2)}\n`;
    const path = join(SNAPSHOT_DIR, `${served.name}.json`);
    if (UPDATE) {
      writeFileSync(path, text);
      continue;
    }
    assert.ok(existsSync(path), `no snapshot for ${served.name}: run npm run snapshots:tools`);
    assert.deepEqual(
      JSON.parse(text),
      JSON.parse(readFileSync(path, "utf8")),
      `${served.name} differs from test/mcp/tool-snapshots/${served.name}.json: review the change, then run npm run snapshots:tools`,
    );
  }
  const stale = readdirSync(SNAPSHOT_DIR).filter((file) => !tools.some((t) => `${t.name}.json` === file));
  if (UPDATE) for (const file of stale) rmSync(join(SNAPSHOT_DIR, file));
  else assert.deepEqual(stale, [], "snapshots of tools that no longer exist");
});
