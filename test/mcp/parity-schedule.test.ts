import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { z } from "zod";
import { ContactsStore } from "../../src/contacts/index.js";
import { generateDemo } from "../../src/demo/generate.js";
import type { ServerDeps } from "../../src/mcp/core/server-deps.js";
import { confirmWithHuman } from "../../src/mcp/elicit.js";
import { registerTool, registerTools } from "../../src/mcp/tool-definition.js";
import { cancelScheduledMessage } from "../../src/mcp/tools/cancel-scheduled-message.js";
import { createContact } from "../../src/mcp/tools/create-contact.js";
import { listScheduledMessages } from "../../src/mcp/tools/list-scheduled-messages.js";
import { scheduleMessage } from "../../src/mcp/tools/schedule-message.js";
import { type MessagesStore, openMessagesStore } from "../../src/messages/index.js";
import { MessageSender } from "../../src/send/index.js";
import { MessageScheduler, SCHEDULE_FILE, type ScheduledMessage } from "../../src/send/scheduler.js";
import { CREATE_CONTACT } from "../../src/send/scripts.js";
import { type FakeOsascript, installFakeOsascript } from "../helpers/fake-osascript.js";
import { call, connectRegistered, structured, textOf } from "../helpers/mcp-scenario.js";

const HANDLE = "+15555550123";

/** A pid that surely belongs to no running process: a child that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(child.stdout.toString());
}

describe("MessageScheduler: persisted, sent once across restarts", () => {
  let fake: FakeOsascript;
  let stateDir: string;
  let clock: Date;
  const now = () => clock;

  before(async () => {
    fake = await installFakeOsascript({ stdout: "sent" });
  });
  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), "mcp-parity-sched-"));
    clock = new Date("2025-06-01T10:00:00Z");
  });
  afterEach(() => {
    rmSync(stateDir, { recursive: true, force: true });
  });
  after(async () => {
    await fake.cleanup();
  });

  function scheduler(): MessageScheduler {
    return new MessageScheduler({
      stateDir,
      sender: new MessageSender({ env: fake.env }),
      now,
      checkIntervalMs: 60_000,
    });
  }

  async function callsTo(handle: string, text: string): Promise<number> {
    return (await fake.calls()).filter((c) => c.runArgs[0] === handle && c.runArgs[1] === text).length;
  }

  it("keeps a scheduled message through a restart and sends it once when due", async () => {
    const first = scheduler();
    const entry = await first.schedule({
      target: { kind: "handle", handle: HANDLE },
      text: "restart-proof hello",
      sendAt: new Date("2025-06-01T10:30:00Z"),
    });
    await first.tick(); // not due yet
    await first.stop();
    assert.equal(await callsTo(HANDLE, "restart-proof hello"), 0);
    const file = join(stateDir, SCHEDULE_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(stateDir).mode & 0o777, 0o700);

    clock = new Date("2025-06-01T10:31:00Z");
    const second = scheduler();
    await second.tick();
    await second.tick();
    await second.stop();
    const third = scheduler();
    await third.tick();
    assert.equal(await callsTo(HANDLE, "restart-proof hello"), 1);
    const [listed] = await third.list();
    assert.equal(listed?.id, entry.id);
    assert.equal(listed?.status, "sent");
    assert.equal(listed?.service, "iMessage");
  });

  it("never resends an entry left 'sending' by a process that died; marks it unknown", async () => {
    const crashed: ScheduledMessage = {
      id: "sch_crashed",
      target: { kind: "handle", handle: HANDLE },
      recipient: HANDLE,
      text: "maybe already sent",
      sendAt: "2025-06-01T09:59:00.000Z",
      createdAt: "2025-06-01T09:00:00.000Z",
      status: "sending",
      updatedAt: "2025-06-01T09:59:01.000Z",
      sendingPid: deadPid(),
      sentAt: null,
      service: null,
      error: null,
    };
    writeFileSync(join(stateDir, SCHEDULE_FILE), JSON.stringify({ version: 1, messages: [crashed] }), {
      mode: 0o600,
    });
    const restarted = scheduler();
    await restarted.tick();
    assert.equal(await callsTo(HANDLE, "maybe already sent"), 0);
    const [entry] = await restarted.list();
    assert.equal(entry?.status, "unknown");
    assert.match(entry?.error ?? "", /may or may not have gone out/);
  });

  it("records a failed send with the reason and does not retry it", async () => {
    await fake.setBehaviour({
      failWith: { stderr: "execution error: Not authorized to send Apple events to Messages. (-1743)" },
    });
    try {
      const s = scheduler();
      await s.schedule({
        target: { kind: "handle", handle: HANDLE, preferService: "iMessage" },
        text: "will fail",
        sendAt: new Date("2025-06-01T10:00:30Z"),
      });
      clock = new Date("2025-06-01T10:01:00Z");
      await s.tick();
      await s.tick();
      const [entry] = await s.list();
      assert.equal(entry?.status, "failed");
      assert.match(entry?.error ?? "", /Automation|Apple events|not allowed|permission/i);
      assert.equal(await callsTo(HANDLE, "will fail"), 1);
    } finally {
      await fake.setBehaviour({ stdout: "sent" });
    }
  });

  it("cancels pending messages only, and refuses past or far-future times", async () => {
    const s = scheduler();
    const entry = await s.schedule({
      target: { kind: "chat", chatGuid: "iMessage;+;chat1" },
      text: "cancel me",
      sendAt: new Date("2025-06-02T00:00:00Z"),
    });
    assert.equal((await s.cancel(entry.id)).status, "cancelled");
    await assert.rejects(s.cancel(entry.id), /cannot be cancelled: it is cancelled/);
    await assert.rejects(s.cancel("sch_nope"), /no scheduled message sch_nope/);
    clock = new Date("2025-06-03T00:00:00Z");
    await s.tick();
    assert.equal(await callsTo("iMessage;+;chat1", "cancel me"), 0);
    await assert.rejects(
      s.schedule({
        target: { kind: "handle", handle: HANDLE },
        text: "x",
        sendAt: new Date("2025-06-02T00:00:00Z"),
      }),
      /in the future/,
    );
    await assert.rejects(
      s.schedule({
        target: { kind: "handle", handle: HANDLE },
        text: "x",
        sendAt: new Date("2027-01-01T00:00:00Z"),
      }),
      /more than a year/,
    );
  });

  it("moves a corrupt file aside, says so, and keeps working", async () => {
    const file = join(stateDir, SCHEDULE_FILE);
    writeFileSync(file, "{ not json", { mode: 0o600 });
    const s = scheduler();
    assert.deepEqual(await s.list(), []);
    assert.equal(s.notices.length, 1);
    assert.match(s.notices[0] ?? "", /was damaged and has been moved to .*corrupt/);
    const aside = readdirSync(stateDir).find((name) => name.includes(".corrupt-"));
    assert.ok(aside);
    assert.equal(readFileSync(join(stateDir, aside), "utf8"), "{ not json");
    await s.schedule({
      target: { kind: "handle", handle: HANDLE },
      text: "after corruption",
      sendAt: new Date("2025-06-01T11:00:00Z"),
    });
    assert.equal((await s.list()).length, 1);
  });
});

describe("schedule tools, create_contact and elicitation over MCP (demo data)", () => {
  let dir: string;
  let store: MessagesStore;
  let fake: FakeOsascript;
  let deps: ServerDeps;
  let sender: MessageSender;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "mcp-parity-tools-"));
    const paths = generateDemo({ dir: join(dir, "demo"), messages: 200 });
    store = openMessagesStore(paths.chatDb);
    fake = await installFakeOsascript({ stdout: "sent" });
    sender = new MessageSender({ env: fake.env });
    deps = {
      messages: store,
      contacts: ContactsStore.open({ roots: [paths.contactsRoot] }),
      sender,
      demo: true,
    };
  });
  after(async () => {
    store.close();
    await fake.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("schedules to a contact by name, lists, cancels, and checks send_at", async () => {
    const scheduler = new MessageScheduler({ stateDir: join(dir, "state"), sender, checkIntervalMs: 60_000 });
    const session = await connectRegistered((server) =>
      registerTools(server, [scheduleMessage, listScheduledMessages, cancelScheduledMessage], {
        ...deps,
        scheduler,
      }),
    );
    try {
      const sendAt = new Date(Date.now() + 3_600_000).toISOString();
      const made = structured<{ scheduled: { id: string; recipient: string; status: string } }>(
        await call(session.client, "schedule_message", {
          format: "json",
          recipient: "Olivia Nguyen",
          text: "see you at the cabin",
          send_at: sendAt,
        }),
      );
      assert.equal(made.scheduled.status, "pending");
      assert.match(made.scheduled.recipient, /Olivia Nguyen \(.+\)/);
      const listed = structured<{ scheduled: { id: string }[] }>(
        await call(session.client, "list_scheduled_messages", { status: "pending" }),
      );
      assert.deepEqual(
        listed.scheduled.map((s) => s.id),
        [made.scheduled.id],
      );
      const cancelled = structured<{ scheduled: { status: string } }>(
        await call(session.client, "cancel_scheduled_message", { id: made.scheduled.id, format: "json" }),
      );
      assert.equal(cancelled.scheduled.status, "cancelled");

      const noOffset = await call(session.client, "schedule_message", {
        recipient: HANDLE,
        text: "x",
        send_at: "2030-01-01T09:00:00",
      });
      assert.equal(noOffset.isError, true);
      assert.match(textOf(noOffset), /time-zone offset/);
      const past = await call(session.client, "schedule_message", {
        recipient: HANDLE,
        text: "x",
        send_at: "2020-01-01T09:00:00Z",
      });
      assert.equal(past.isError, true);
      assert.match(textOf(past), /must be in the future/);
      const nobody = await call(session.client, "schedule_message", {
        recipient: "Zebulon Quixote",
        text: "x",
        send_at: sendAt,
      });
      assert.equal(nobody.isError, true);
      assert.match(textOf(nobody), /No contact matches/);
    } finally {
      await session.close();
      await scheduler.stop();
    }
  });

  it("creates a contact through Contacts.app with the values as argv only", async () => {
    const session = await connectRegistered((server) =>
      registerTool(server, createContact, { ...deps, sender }),
    );
    try {
      const before = (await fake.calls()).length;
      const result = structured<{ created: boolean; name: string }>(
        await call(session.client, "create_contact", {
          format: "json",
          first_name: "Ada",
          last_name: "Lovelace",
          phone: "+1 555 010 0199",
        }),
      );
      assert.equal(result.name, "Ada Lovelace");
      const calls = (await fake.calls()).slice(before);
      assert.equal(calls.length, 1);
      assert.equal(calls[0]?.program, CREATE_CONTACT);
      assert.deepEqual(calls[0]?.runArgs, ["Ada", "Lovelace", "+1 555 010 0199", ""]);
      const bad = await call(session.client, "create_contact", { first_name: "Bob", email: "not-an-email" });
      assert.equal(bad.isError, true);
      assert.match(textOf(bad), /does not look like an email/);
    } finally {
      await session.close();
    }
  });

  /** A tool that confirms through the helper under test and reports the answer. */
  function registerConfirmProbe(server: Parameters<Parameters<typeof connectRegistered>[0]>[0]): void {
    server.registerTool(
      "confirm_probe",
      { inputSchema: z.object({ question: z.string() }) },
      async (args, extra) => {
        const confirmation = await confirmWithHuman(server, args.question, extra);
        return "ask" in confirmation
          ? confirmation.ask
          : { content: [{ type: "text", text: confirmation.answer }] };
      },
    );
  }

  for (const [action, expected] of [
    ["accept", "accepted"],
    ["decline", "declined"],
    ["cancel", "declined"],
  ] as const) {
    it(`confirmWithHuman: the person chose ${action} → ${expected}`, async () => {
      const session = await connectRegistered(registerConfirmProbe, { elicitation: {} });
      const asked: string[] = [];
      session.client.setRequestHandler("elicitation/create", (request) => {
        asked.push(request.params.message);
        return action === "accept" ? { action, content: {} } : { action };
      });
      try {
        const result = await call(session.client, "confirm_probe", { question: "Send 'hi' to Alice?" });
        assert.equal(textOf(result), expected);
        assert.deepEqual(asked, ["Send 'hi' to Alice?"]);
      } finally {
        await session.close();
      }
    });
  }

  it("confirmWithHuman: a client without elicitation → unsupported, and nobody is asked", async () => {
    const session = await connectRegistered(registerConfirmProbe, {});
    try {
      assert.equal(textOf(await call(session.client, "confirm_probe", { question: "Send?" })), "unsupported");
    } finally {
      await session.close();
    }
  });
});
