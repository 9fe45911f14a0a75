import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { AuditLog } from "../src/audit/index.js";
import { MessageSender } from "../src/send/index.js";
import { type FakeOsascript, installFakeOsascript } from "./helpers/fake-osascript.js";
import {
  buildScenario,
  type Connected,
  call,
  connect,
  PHONES,
  type Scenario,
} from "./helpers/mcp-scenario.js";

let scenario: Scenario;
let fake: FakeOsascript;
let conn: Connected;
let dir: string;
let logPath: string;

before(async () => {
  scenario = buildScenario();
  fake = await installFakeOsascript();
  dir = mkdtempSync(join(tmpdir(), "mmcp-send-audit-"));
  logPath = join(dir, "audit.log");
  conn = await connect({
    chatDb: scenario.chatDb,
    contactsRoots: [scenario.contactsRoot],
    sender: new MessageSender({ env: fake.env, timeoutMs: 20_000 }),
    audit: new AuditLog(logPath),
  });
});

after(async () => {
  await conn?.close();
  await fake?.cleanup();
  scenario?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function auditLines(): Record<string, unknown>[] {
  return readFileSync(logPath, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

test("every send_message attempt is audited, successes and failures, without the text", async () => {
  const secret = "the door code is 4471";
  const sent = await call(conn.client, "send_message", { recipient: PHONES.bob, text: secret });
  assert.equal(sent.result.isError, undefined);

  await fake.setBehaviour({
    failWith: { stderr: "execution error: Not authorized to send Apple events to Messages. (-1743)" },
  });
  const denied = await call(conn.client, "send_message", { recipient: PHONES.bob, text: "second" });
  assert.equal(denied.result.isError, true);

  const lines = auditLines();
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!.kind, "send_message");
  assert.equal(lines[0]!.ok, true);
  assert.equal(lines[0]!.target, PHONES.bob);
  assert.equal(lines[0]!.textSha256, createHash("sha256").update(secret).digest("hex"));
  assert.equal(lines[1]!.ok, false);
  assert.match(String(lines[1]!.error), /Automation/);
  const raw = readFileSync(logPath, "utf8");
  assert.ok(!raw.includes(secret), "message text is not written unless the owner opts in");
  assert.equal(statSync(logPath).mode & 0o777, 0o600);
});

test("a send refused before osascript (unknown recipient) is not a send attempt", async () => {
  const before = auditLines().length;
  const nobody = await call(conn.client, "send_message", { recipient: "Zebulon Quux", text: "x" });
  assert.equal(nobody.result.isError, true);
  assert.equal(auditLines().length, before);
});
