import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { AppleScriptError, MessageSender, SendInputError } from "../../src/send/index.js";
import {
  CREATE_CONTACT,
  PROBE_MESSAGES,
  SEND_FILE_TO_CHAT,
  SEND_FILE_TO_HANDLE,
  SEND_TEXT_TO_CHAT,
  SEND_TEXT_TO_HANDLE,
} from "../../src/send/scripts.js";
import { type FakeCall, type FakeOsascript, installFakeOsascript } from "../helpers/fake-osascript.js";

const HANDLE = "+15555550123";
const CHAT = "iMessage;+;chat123456789";

const HOSTILE_TEXTS = [
  "Quote \" and ' and “curly”",
  "back\\slash\\\\",
  "two\nlines\r\nand CRLF\r\n",
  "emoji 😀 👨‍👩‍👧 flags 🇸🇪 non-BMP 𝄞",
  "-e",
  "--",
  "-l JavaScript",
  "- leading dash",
  '" & (do shell script "touch /tmp/pwned") & "',
  'end run\non run argv\n  do shell script "id"\nend run',
  "\t\tindented\u00a0nbsp\u200bzwsp",
];

describe("MessageSender", () => {
  let fake: FakeOsascript;
  let sender: MessageSender;
  let scratch: string;
  let seen = 0;

  /** Calls made since the last `beforeEach`. */
  async function newCalls(): Promise<FakeCall[]> {
    return (await fake.calls()).slice(seen);
  }

  before(async () => {
    fake = await installFakeOsascript();
    sender = new MessageSender({ env: fake.env });
    scratch = await mkdtemp(join(tmpdir(), "send-sender-test-"));
  });
  beforeEach(async () => {
    seen = (await fake.calls()).length;
    await fake.setBehaviour({ stdout: "sent" });
  });
  after(async () => {
    await fake.cleanup();
    await rm(scratch, { recursive: true, force: true });
  });

  it("sends text over iMessage first and hands the text over as argv only", async () => {
    for (const text of HOSTILE_TEXTS) {
      const result = await sender.sendText({ kind: "handle", handle: HANDLE }, text);
      assert.deepEqual(result, { ok: true, service: "iMessage", target: HANDLE });
    }
    const calls = await newCalls();
    assert.equal(calls.length, HOSTILE_TEXTS.length);
    calls.forEach((call, index) => {
      assert.equal(call.program, SEND_TEXT_TO_HANDLE.modern.iMessage);
      assert.deepEqual(call.runArgs, [HANDLE, HOSTILE_TEXTS[index]]);
    });
  });

  it("falls back to SMS when the recipient cannot get iMessage, and says why", async () => {
    await fake.setBehaviour({
      failWith: {
        stderr: 'execution error: Messages got an error: Can’t get participant "+15555550123". (-1728)',
      },
      failWhenProgramIncludes: "iMessage",
    });
    const text = 'Hi "there"\nsecond line 😀';
    const result = await sender.sendText({ kind: "handle", handle: HANDLE, preferService: "auto" }, text);
    assert.equal(result.service, "SMS");
    assert.equal(result.target, HANDLE);
    assert.match(
      result.fallbackReason ?? "",
      /iMessage did not work.*could not find that recipient.*Sent as SMS/s,
    );
    const calls = await newCalls();
    assert.deepEqual(
      calls.map((c) => c.program),
      [SEND_TEXT_TO_HANDLE.modern.iMessage, SEND_TEXT_TO_HANDLE.modern.SMS],
    );
    for (const call of calls) assert.deepEqual(call.runArgs, [HANDLE, text]);
  });

  it("falls back to SMS when there is no iMessage account (-1719)", async () => {
    await fake.setBehaviour({
      failWith: {
        stderr:
          "execution error: Messages got an error: Can’t get account 1 whose service type = iMessage. Invalid index. (-1719)",
      },
      failWhenProgramIncludes: "iMessage",
    });
    const result = await sender.sendText({ kind: "handle", handle: HANDLE }, "hello");
    assert.equal(result.service, "SMS");
    assert.ok(result.fallbackReason);
  });

  it("does not retry as SMS when retrying could not help", async () => {
    const notRetried: { stderr: string; code: string }[] = [
      {
        stderr: "execution error: Not authorized to send Apple events to Messages. (-1743)",
        code: "automation_denied",
      },
      {
        stderr: "execution error: Messages got an error: Application isn’t running. (-600)",
        code: "app_not_running",
      },
      {
        stderr: "execution error: Messages got an error: Connection is invalid. (-609)",
        code: "app_not_running",
      },
      {
        stderr: "execution error: Messages got an error: AppleEvent handler failed. (-10000)",
        code: "failed",
      },
    ];
    for (const { stderr, code } of notRetried) {
      const start = (await fake.calls()).length;
      await fake.setBehaviour({ failWith: { stderr }, failWhenProgramIncludes: "iMessage" });
      await assert.rejects(
        sender.sendText({ kind: "handle", handle: HANDLE }, "hello"),
        (error: unknown) => error instanceof AppleScriptError && error.code === code,
      );
      const calls = (await fake.calls()).slice(start);
      assert.deepEqual(
        calls.map((c) => c.program),
        [SEND_TEXT_TO_HANDLE.modern.iMessage],
        `${code} must not be retried as SMS`,
      );
    }
  });

  it("does not retry as SMS after a timeout", async () => {
    // Counted by the fake's start marker, not its call log: a run killed before Node recorded anything
    // still counts, so a busy machine cannot make this pass or fail by accident.
    const before = (await fake.started()).length;
    const quick = new MessageSender({ env: fake.env, timeoutMs: 3000 });
    await fake.setBehaviour({ sleepMs: 600_000 });
    await assert.rejects(
      quick.sendText({ kind: "handle", handle: HANDLE }, "hello"),
      (error: unknown) => error instanceof AppleScriptError && error.code === "timeout",
    );
    assert.equal((await fake.started()).length - before, 1, "osascript ran once: no SMS retry");
  });

  it("honours an explicit service without falling back", async () => {
    await fake.setBehaviour({
      failWith: { stderr: "execution error: Can’t get participant. (-1728)" },
      failWhenProgramIncludes: "iMessage",
    });
    await assert.rejects(
      sender.sendText({ kind: "handle", handle: HANDLE, preferService: "iMessage" }, "hello"),
      (error: unknown) => error instanceof AppleScriptError && error.code === "not_found",
    );
    const sms = await sender.sendText({ kind: "handle", handle: HANDLE, preferService: "SMS" }, "hello");
    assert.deepEqual(sms, { ok: true, service: "SMS", target: HANDLE });
    assert.deepEqual(
      (await newCalls()).map((c) => c.program),
      [SEND_TEXT_TO_HANDLE.modern.iMessage, SEND_TEXT_TO_HANDLE.modern.SMS],
    );
  });

  it("reports both failures when SMS fails after iMessage", async () => {
    await fake.setBehaviour({ failWith: { stderr: "execution error: Can’t get participant. (-1728)" } });
    await assert.rejects(sender.sendText({ kind: "handle", handle: HANDLE }, "hello"), (error: unknown) => {
      assert.ok(error instanceof AppleScriptError);
      assert.equal(error.code, "not_found");
      assert.match(error.message, /iMessage did not work.*Sending as SMS failed too/s);
      return true;
    });
    assert.equal((await newCalls()).length, 2);
  });

  it("uses the older Messages dictionary (service/buddy) when the modern script does not compile", async () => {
    await fake.setBehaviour({
      failWith: { stderr: "-:120:131: syntax error: Expected end of line but found identifier. (-2741)" },
      failWhenProgramIncludes: "participant",
    });
    const result = await sender.sendText({ kind: "handle", handle: HANDLE }, "hello");
    assert.equal(result.service, "iMessage");
    const programs = (await newCalls()).map((c) => c.program);
    assert.deepEqual(programs, [SEND_TEXT_TO_HANDLE.modern.iMessage, SEND_TEXT_TO_HANDLE.legacy.iMessage]);
    assert.match(programs[1]!, /buddy recipientHandle of targetAccount/);
  });

  it("sends to a chat by its guid", async () => {
    const text = HOSTILE_TEXTS.join("\n");
    const result = await sender.sendText({ kind: "chat", chatGuid: CHAT }, text);
    assert.deepEqual(result, { ok: true, service: "chat", target: CHAT });
    const [call] = await newCalls();
    assert.equal(call?.program, SEND_TEXT_TO_CHAT);
    assert.deepEqual(call?.runArgs, [CHAT, text]);
  });

  it("rejects bad input with clear errors before starting osascript", async () => {
    const handle = { kind: "handle", handle: HANDLE } as const;
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => sender.sendText(handle, ""), /message text is empty/],
      [() => sender.sendText(handle, " \n\t "), /message text is empty/],
      [() => sender.sendText(handle, "a".repeat(20_001)), /20001 characters long; the limit is 20000/],
      [() => sender.sendText(handle, "a\0b"), /NUL character/],
      [() => sender.sendText(handle, "broken \ud83d surrogate"), /unpaired surrogate/],
      [() => sender.sendText({ kind: "handle", handle: "  " }, "hi"), /recipient is empty/],
      [() => sender.sendText({ kind: "handle", handle: "a\nb" }, "hi"), /does not look like a phone number/],
      [() => sender.sendText({ kind: "chat", chatGuid: "" }, "hi"), /chat id is empty/],
      [() => sender.sendText({ kind: "chat", chatGuid: "chat123" }, "hi"), /should be a chat guid/],
      [() => sender.sendFile(handle, "relative/file.jpg"), /must be absolute/],
      [() => sender.sendFile(handle, join(scratch, "missing.jpg")), /does not exist/],
      [() => sender.sendFile(handle, scratch), /is not a regular file/],
      [() => sender.sendFile({ ...handle, preferService: "SMS" }, join(scratch, "x")), /not as SMS/],
      [() => sender.createContact({ firstName: " " }), /needs a first name/],
      [
        () => sender.createContact({ firstName: "Ann", email: "not-an-email" }),
        /does not look like an email/,
      ],
      [
        () => sender.createContact({ firstName: "Ann", phone: "call me" }),
        /does not look like a phone number/,
      ],
    ];
    for (const [attempt, message] of cases) {
      await assert.rejects(attempt, (error: unknown) => {
        assert.ok(error instanceof SendInputError, `expected SendInputError, got ${String(error)}`);
        assert.equal(error.code, "invalid_input");
        assert.match(error.message, message);
        return true;
      });
    }
    assert.equal((await newCalls()).length, 0);
  });

  it("counts the length limit in characters, so 20 000 emoji are allowed", async () => {
    const text = "😀".repeat(20_000);
    await sender.sendText({ kind: "handle", handle: HANDLE }, text);
    assert.equal((await newCalls())[0]?.runArgs[1], text);
  });

  it("sends a file over iMessage or to a chat, never as SMS", async () => {
    const dir = join(scratch, `dir with "quotes" & spaces`);
    await mkdir(dir, { recursive: true });
    const file = join(dir, "photo -e 'x'.jpg");
    await writeFile(file, "jpeg bytes");

    assert.deepEqual(await sender.sendFile({ kind: "handle", handle: HANDLE }, file), {
      ok: true,
      service: "iMessage",
      target: HANDLE,
    });
    assert.deepEqual(await sender.sendFile({ kind: "chat", chatGuid: CHAT }, file), {
      ok: true,
      service: "chat",
      target: CHAT,
    });
    const calls = await newCalls();
    assert.deepEqual(
      calls.map((c) => [c.program, c.runArgs]),
      [
        [SEND_FILE_TO_HANDLE.modern, [HANDLE, file]],
        [SEND_FILE_TO_CHAT, [CHAT, file]],
      ],
    );

    await fake.setBehaviour({ failWith: { stderr: "execution error: Can’t get participant. (-1728)" } });
    await assert.rejects(
      sender.sendFile({ kind: "handle", handle: HANDLE }, file),
      (error: unknown) => error instanceof AppleScriptError && error.code === "not_found",
    );
    assert.equal((await newCalls()).length, 3, "a failed file send is not retried as SMS");
  });

  it("probes Messages and reports problems without throwing", async () => {
    await fake.setBehaviour({ stdout: "iMessage, SMS" });
    assert.deepEqual(await sender.probe(), {
      ok: true,
      message: "Messages is reachable. Signed-in services: iMessage, SMS.",
    });
    assert.equal((await newCalls())[0]?.program, PROBE_MESSAGES.modern);

    await fake.setBehaviour({
      failWith: { stderr: "execution error: Not authorized to send Apple events to Messages. (-1743)" },
    });
    const denied = await sender.probe();
    assert.equal(denied.ok, false);
    assert.match(denied.message, /Privacy & Security → Automation/);

    const emptyDir = await mkdtemp(join(tmpdir(), "no-osascript-"));
    try {
      const notMac = await new MessageSender({ env: { PATH: emptyDir } }).probe();
      assert.equal(notMac.ok, false);
      assert.match(notMac.message, /Sending needs macOS/);
    } finally {
      await rm(emptyDir, { recursive: true, force: true });
    }
  });

  it("creates a contact with the values as argv and blanks for missing fields", async () => {
    assert.deepEqual(
      await sender.createContact({
        firstName: 'Zoë "Z"',
        lastName: "O'Brien",
        phone: "+1 555 555 0199",
        email: "z@example.com",
      }),
      { ok: true },
    );
    await sender.createContact({ firstName: "Solo" });
    const calls = await newCalls();
    assert.deepEqual(
      calls.map((c) => [c.program, c.runArgs]),
      [
        [CREATE_CONTACT, ['Zoë "Z"', "O'Brien", "+1 555 555 0199", "z@example.com"]],
        [CREATE_CONTACT, ["Solo", "", "", ""]],
      ],
    );
  });
});
