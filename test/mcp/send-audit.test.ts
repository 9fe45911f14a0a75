// Every send and every contact created is audited by the sender itself, whichever way it was asked for:
// send_message, a scheduled message coming due, create_contact.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { AuditLog } from "../../src/audit/index.js";
import type { ServerDeps } from "../../src/mcp/index.js";
import { registerTool, registerTools } from "../../src/mcp/tool-definition.js";
import { cancelScheduledMessage } from "../../src/mcp/tools/cancel-scheduled-message.js";
import { createContact } from "../../src/mcp/tools/create-contact.js";
import { listScheduledMessages } from "../../src/mcp/tools/list-scheduled-messages.js";
import { scheduleMessage } from "../../src/mcp/tools/schedule-message.js";
import { sendMessage } from "../../src/mcp/tools/send-message.js";
import { MessageSender } from "../../src/send/index.js";
import { MessageScheduler } from "../../src/send/scheduler.js";
import { type FakeOsascript, installFakeOsascript } from "../helpers/fake-osascript.js";
import {
  buildScenario,
  type Connected,
  call,
  connect,
  connectRegistered,
  PHONES,
  type Scenario,
  textOf,
} from "../helpers/mcp-scenario.js";

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
    sender: new MessageSender({ env: fake.env, timeoutMs: 20_000, audit: new AuditLog(logPath) }),
  });
});

after(async () => {
  await conn?.close();
  await fake?.cleanup();
  scenario?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The outcome lines of the log. Each send is written ahead (`phase: "sending"`) before osascript starts;
 * every outcome must follow its own `sending` line (same attempt), which is checked here for all tests.
 */
function auditLines(path = logPath): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  const all = readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const ahead = new Set<unknown>();
  for (const line of all) {
    if (line.kind !== "send_message") continue;
    if (line.phase === "sending") ahead.add(line.attempt);
    else assert.ok(ahead.has(line.attempt), `outcome without a write-ahead line: ${JSON.stringify(line)}`);
  }
  return all.filter((line) => line.phase !== "sending");
}

/** The scenario's stores as a remote-mode server would see them: a client id, and a sender with its own log. */
function remoteDeps(sender: MessageSender, clientId: string): ServerDeps {
  return { ...conn.deps, sender, clientId };
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
  assert.equal(lines[0]!.textHmac, new AuditLog(logPath).textHmac(secret));
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

test("a scheduled message is audited once, when it comes due, with the client that scheduled it", async () => {
  await fake.setBehaviour({ stdout: "sent" });
  const path = join(dir, "schedule-audit.log");
  const sender = new MessageSender({ env: fake.env, timeoutMs: 20_000, audit: new AuditLog(path) });
  const stateDir = join(dir, "state");
  let clock = new Date();
  const scheduler = (): MessageScheduler =>
    new MessageScheduler({ stateDir, sender, now: () => clock, checkIntervalMs: 60_000 });
  const first = scheduler();
  const session = await connectRegistered((server) =>
    registerTools(server, [scheduleMessage, listScheduledMessages, cancelScheduledMessage], {
      ...remoteDeps(sender, "client-sched"),
      scheduler: first,
    }),
  );
  const text = "scheduled: the spare key is under the mat";
  try {
    const made = await call(session.client, "schedule_message", {
      recipient: PHONES.bob,
      text,
      send_at: new Date(clock.getTime() + 3_600_000).toISOString(),
    });
    assert.equal(made.isError, undefined, textOf(made));
  } finally {
    await session.close();
  }
  await first.tick();
  assert.deepEqual(auditLines(path), [], "scheduling is not a send; nothing is due yet");

  clock = new Date(clock.getTime() + 2 * 3_600_000);
  await first.tick();
  await first.tick();
  await first.stop();
  const restarted = scheduler();
  await restarted.tick();
  await restarted.stop();

  const lines = auditLines(path);
  assert.equal(lines.length, 1, JSON.stringify(lines));
  assert.equal(lines[0]!.kind, "send_message");
  assert.equal(lines[0]!.via, "schedule");
  assert.equal(lines[0]!.ok, true);
  assert.equal(lines[0]!.target, PHONES.bob);
  assert.equal(lines[0]!.clientId, "client-sched");
  assert.equal(lines[0]!.textHmac, new AuditLog(path).textHmac(text));
  assert.ok(!readFileSync(path, "utf8").includes(text));
});

test("create_contact is audited, success and failure, with phone/email and the client but not the name", async () => {
  await fake.setBehaviour({ stdout: "" });
  const path = join(dir, "contact-audit.log");
  const sender = new MessageSender({ env: fake.env, timeoutMs: 20_000, audit: new AuditLog(path) });
  const session = await connectRegistered((server) =>
    registerTool(server, createContact, remoteDeps(sender, "client-contacts")),
  );
  try {
    const made = await call(session.client, "create_contact", {
      first_name: "Zanzibar",
      last_name: "Quixotic",
      phone: "+1 555 010 0777",
    });
    assert.equal(made.isError, undefined, textOf(made));
    await fake.setBehaviour({
      failWith: { stderr: "execution error: Not authorized to send Apple events to Contacts. (-1743)" },
    });
    const denied = await call(session.client, "create_contact", {
      first_name: "Zanzibar",
      email: "zq@example.com",
    });
    assert.equal(denied.isError, true);
  } finally {
    await session.close();
    await fake.setBehaviour({ stdout: "sent" });
  }
  const lines = auditLines(path);
  assert.equal(lines.length, 2, JSON.stringify(lines));
  assert.deepEqual(
    lines.map((l) => [l.kind, l.ok, l.phone, l.email, l.clientId]),
    [
      ["create_contact", true, "+1 555 010 0777", undefined, "client-contacts"],
      ["create_contact", false, undefined, "zq@example.com", "client-contacts"],
    ],
  );
  assert.match(String(lines[1]!.error), /Automation|Apple events/);
  const raw = readFileSync(path, "utf8");
  assert.ok(!raw.includes("Zanzibar") && !raw.includes("Quixotic"), "the name is not logged");
});

test("send_message in remote mode records the OAuth client and how the send was asked for", async () => {
  await fake.setBehaviour({ stdout: "sent" });
  const path = join(dir, "remote-audit.log");
  const sender = new MessageSender({ env: fake.env, timeoutMs: 20_000, audit: new AuditLog(path) });
  const session = await connectRegistered((server) =>
    registerTool(server, sendMessage, remoteDeps(sender, "client-remote")),
  );
  try {
    const sent = await call(session.client, "send_message", {
      recipient: PHONES.bob,
      text: "remote hello",
    });
    assert.equal(sent.isError, undefined, textOf(sent));
  } finally {
    await session.close();
  }
  const lines = auditLines(path);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.via, "send_message");
  assert.equal(lines[0]!.clientId, "client-remote");
});
