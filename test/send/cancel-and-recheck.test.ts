// Issue #16 item 5 (local part): a send_message the client cancels is not sent, and a folder swapped for a
// symlink while the confirmation dialog is open does not send a file from outside the allowed folders. Both
// through the real server and client, with the confirmation answered by the client's elicitation handler
// (which is where the probe did its swap), down to a recording fake osascript.
import assert from "node:assert/strict";
import {
  mkdirSync,
  mkdtempSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import { AuditLog } from "../../src/audit/index.js";
import { ALLOWED_ATTACHMENT_DIRS_ENV } from "../../src/config/index.js";
import { MessageSender, recheckFileAtUse, SendCancelledError } from "../../src/send/index.js";
import { type FakeOsascript, installFakeOsascript } from "../helpers/fake-osascript.js";
import { buildScenario, call, connect, PHONES, type Scenario } from "../helpers/mcp-scenario.js";
import { waitUntil } from "../helpers/wait.js";

let scenario: Scenario;
let fake: FakeOsascript;
let scratch: string;
let allowed: string;
let outside: string;
let previousEnv: string | undefined;

before(async () => {
  scenario = buildScenario();
  fake = await installFakeOsascript({ stdout: "sent" });
  scratch = realpathSync(mkdtempSync(join(tmpdir(), "send-recheck-")));
  allowed = join(scratch, "allowed");
  outside = join(scratch, "private");
  previousEnv = process.env[ALLOWED_ATTACHMENT_DIRS_ENV];
  process.env[ALLOWED_ATTACHMENT_DIRS_ENV] = allowed;
});
beforeEach(() => {
  rmSync(allowed, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
  mkdirSync(join(allowed, "photos"), { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(allowed, "photos", "beach.jpg"), "holiday photo");
  writeFileSync(join(outside, "beach.jpg"), "the owner's private file");
});
after(async () => {
  if (previousEnv === undefined) delete process.env[ALLOWED_ATTACHMENT_DIRS_ENV];
  else process.env[ALLOWED_ATTACHMENT_DIRS_ENV] = previousEnv;
  await fake?.cleanup();
  scenario?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

/** Swaps the allowed photos folder for a symlink to the private folder (same file names inside). */
function swapFolderForSymlink(): void {
  renameSync(join(allowed, "photos"), join(allowed, "photos-moved"));
  symlinkSync(outside, join(allowed, "photos"));
}

async function sendFileCalls(since: number): Promise<string[][]> {
  return (await fake.calls())
    .slice(since)
    .filter((c) => c.program.includes("attachmentFile"))
    .map((c) => c.runArgs);
}

describe("files are checked again at use", () => {
  test("a folder swapped for a symlink during the confirmation dialog: refused, nothing sent", async () => {
    const since = (await fake.calls()).length;
    const logPath = join(scratch, "swap-audit.log");
    const conn = await connect({
      chatDb: scenario.chatDb,
      contactsRoots: [scenario.contactsRoot],
      sender: new MessageSender({ env: fake.env, timeoutMs: 20_000, audit: new AuditLog(logPath) }),
      clientCapabilities: { elicitation: {} },
      setUpClient: (client) =>
        client.setRequestHandler("elicitation/create", () => {
          swapFolderForSymlink(); // while the person reads the question
          return { action: "accept" };
        }),
    });
    try {
      const { result, text } = await call(conn.client, "send_message", {
        recipient: PHONES.bob,
        attachments: [join(allowed, "photos", "beach.jpg")],
        confirm: true,
      });
      assert.equal(result.isError, true, text);
      // The answer comes back as a second round of the call (elicit.ts), which resolves the files again; the
      // sender's re-check at use would refuse it even if that round had not.
      assert.match(text, /(now leads somewhere else|leads outside the allowed folders).*Nothing was sent/s);
      assert.deepEqual(await sendFileCalls(since), [], "osascript never saw the file");
    } finally {
      await conn.close();
    }
  });

  test("without a swap the same request sends the file", async () => {
    const since = (await fake.calls()).length;
    const conn = await connect({
      chatDb: scenario.chatDb,
      contactsRoots: [scenario.contactsRoot],
      sender: new MessageSender({ env: fake.env, timeoutMs: 20_000 }),
      clientCapabilities: { elicitation: {} },
      setUpClient: (client) => client.setRequestHandler("elicitation/create", () => ({ action: "accept" })),
    });
    try {
      const { result, text } = await call(conn.client, "send_message", {
        recipient: PHONES.bob,
        attachments: [join(allowed, "photos", "beach.jpg")],
        confirm: true,
      });
      assert.equal(result.isError, undefined, text);
      assert.deepEqual(await sendFileCalls(since), [[PHONES.bob, join(allowed, "photos", "beach.jpg")]]);
    } finally {
      await conn.close();
    }
  });

  test("the file itself replaced by a symlink, or by another file, is refused", async () => {
    const file = join(allowed, "photos", "beach.jpg");
    await recheckFileAtUse(file, [allowed]);
    rmSync(file);
    symlinkSync(join(outside, "beach.jpg"), file);
    await assert.rejects(recheckFileAtUse(file, [allowed]), /now leads somewhere else/);
    rmSync(file);
    writeFileSync(file, "same name, new file");
    await recheckFileAtUse(file, [allowed]); // a regular file at the checked real path is that file now
    await assert.rejects(recheckFileAtUse(file, [join(scratch, "elsewhere")]), /no longer inside/);
    rmSync(file);
    await assert.rejects(recheckFileAtUse(file, [allowed]), /disappeared/);
  });
});

describe("cancelled requests", () => {
  test("the client cancels while the confirmation is open: nothing is sent, nothing audited as sent", async () => {
    const since = (await fake.calls()).length;
    const sinceStarts = (await fake.started()).length;
    const logPath = join(scratch, "cancel-audit.log");
    const controller = new AbortController();
    let answer: (value: { action: "accept" }) => void = () => {};
    let asked = false;
    const conn = await connect({
      chatDb: scenario.chatDb,
      contactsRoots: [scenario.contactsRoot],
      sender: new MessageSender({ env: fake.env, timeoutMs: 20_000, audit: new AuditLog(logPath) }),
      clientCapabilities: { elicitation: {} },
      setUpClient: (client) =>
        client.setRequestHandler(
          "elicitation/create",
          () =>
            new Promise((resolve) => {
              asked = true;
              answer = resolve;
            }),
        ),
    });
    try {
      const calling = conn.client.callTool(
        { name: "send_message", arguments: { recipient: PHONES.bob, text: "never", confirm: true } },
        { signal: controller.signal },
      );
      await waitUntil(() => asked, "the confirmation question");
      controller.abort("the user pressed Esc");
      await assert.rejects(calling, /the user pressed Esc/);
      // The person still clicks Accept in the dialog that was already open.
      answer({ action: "accept" });
      // Give the server every chance to (wrongly) go on: later requests on the same connection finish, and
      // osascript would be seen starting within a few seconds (a negative check: it can only err towards
      // passing on a very slow machine, never fail a correct server).
      await conn.client.listTools();
      await call(conn.client, "list_chats", { limit: 1 });
      await assert.rejects(
        waitUntil(async () => (await fake.started()).length > sinceStarts, "osascript to start", 3000),
        /timed out/,
        "osascript never started",
      );
      assert.deepEqual((await fake.calls()).slice(since), []);
    } finally {
      await conn.close();
    }
  });

  test("at the sender: a signal aborted before osascript starts stops the send; after, the send finishes", async () => {
    const sender = new MessageSender({ env: fake.env, timeoutMs: 20_000 });
    const sinceStarts = (await fake.started()).length;
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(
      sender.sendText({ kind: "handle", handle: PHONES.bob }, "hello", { signal: aborted.signal }),
      (error: unknown) => error instanceof SendCancelledError && /nothing was sent/.test(error.message),
    );
    assert.equal((await fake.started()).length, sinceStarts);

    // Cancelled while osascript runs: Messages may already have it, so the run is not killed halfway.
    const release = join(scratch, "release-inflight");
    await fake.setBehaviour({ stdout: "sent", waitForFile: release });
    const late = new AbortController();
    const sending = sender.sendText({ kind: "handle", handle: PHONES.bob }, "hello", { signal: late.signal });
    await waitUntil(async () => (await fake.started()).length > sinceStarts, "osascript to start");
    late.abort();
    writeFileSync(release, "");
    const result = await sending;
    assert.equal(result.ok, true);
    await fake.setBehaviour({ stdout: "sent" });
  });
});
