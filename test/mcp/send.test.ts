// send_message through the SDK client, the real send layer and a recording fake osascript on PATH.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { ALLOWED_ATTACHMENT_DIRS_ENV, resolveSendableDirs } from "../../src/config/index.js";
import { ELICITATION_UNSUPPORTED_MESSAGE } from "../../src/mcp/elicit.js";
import { MessageSender } from "../../src/send/index.js";
import { type FakeOsascript, installFakeOsascript } from "../helpers/fake-osascript.js";
import {
  buildScenario,
  type Connected,
  call,
  connect,
  defined,
  PHONES,
  type Scenario,
} from "../helpers/mcp-scenario.js";
import { answeringQuestions } from "../helpers/test-client.js";

let scenario: Scenario;
let fake: FakeOsascript;
let conn: Connected;

before(async () => {
  scenario = buildScenario();
  fake = await installFakeOsascript();
  conn = await connect({
    chatDb: scenario.chatDb,
    contactsRoots: [scenario.contactsRoot],
    sender: new MessageSender({ env: fake.env, timeoutMs: 20_000 }),
  });
});

after(async () => {
  await conn?.close();
  await fake?.cleanup();
  scenario?.cleanup();
});

/** Calls made since the previous test. */
let seen = 0;
async function newCalls() {
  const calls = await fake.calls();
  const fresh = calls.slice(seen);
  seen = calls.length;
  return fresh;
}

afterEach(async () => {
  await newCalls();
  await fake.setBehaviour({});
});

const HOSTILE = [
  'He said "hi" \\ and left',
  'x" & (do shell script "touch /tmp/pwned") & "',
  "line one\nline two\r\nend run\non run argv",
  "-e display dialog 1",
  "--",
  "emoji 👩‍👩‍👧 and 🇩🇪 and zero\u200bwidth",
  "tab\tand $HOME and `uname` and $(id)",
];

describe("send_message", () => {
  test("is listed with destructive and open-world annotations", async () => {
    const { tools } = await conn.client.listTools();
    const send = defined(tools.find((t) => t.name === "send_message"));
    assert.ok(send);
    assert.equal(send.annotations?.destructiveHint, true);
    assert.equal(send.annotations?.openWorldHint, true);
    assert.equal(send.annotations?.readOnlyHint, false);
  });

  for (const text of HOSTILE) {
    test(`hostile text reaches osascript argv unchanged: ${JSON.stringify(text).slice(0, 40)}`, async () => {
      const { result, data } = await call(conn.client, "send_message", {
        format: "json",
        recipient: "+1 (555) 010-0003",
        text,
      });
      assert.equal(result.isError, undefined, JSON.stringify(result.content));
      assert.equal(data.service, "iMessage");
      assert.equal(data.to, PHONES.bob);
      const [only, ...rest] = await newCalls();
      assert.equal(rest.length, 0);
      assert.ok(only);
      assert.equal(only.programSource, "stdin");
      assert.deepEqual(only.argv, ["--", "-", PHONES.bob, text]);
      assert.deepEqual(only.runArgs, [PHONES.bob, text]);
      assert.ok(!only.program.includes(text), "the text is never part of the program");
      assert.match(only.program, /on run argv/);
    });
  }

  test("a unique contact name resolves to their number; the reply names them", async () => {
    const { text } = await call(conn.client, "send_message", { recipient: "bob", text: "On my way" });
    // The name comes from Contacts: fenced, right after the trusted part of the sentence.
    assert.match(
      text,
      /^Sent by iMessage to <untrusted-message-content>\nBob Stone \(\+15550100003\)\n<\/untrusted-message-content>\nMessages accepted it, but it has not appeared in the Messages database yet: check the conversation\.$/,
    );
    // (No Messages behind the fake writes the row, so the delivery check cannot confirm it: "uncertain".)
    const [only] = await newCalls();
    assert.deepEqual(only?.runArgs, [PHONES.bob, "On my way"]);
  });

  test("an ambiguous name sends nothing and lists candidates; retrying with contact:<id> sends", async () => {
    const ambiguous = await call(conn.client, "send_message", { recipient: "Alice", text: "hello" });
    assert.equal(ambiguous.result.isError, true);
    assert.match(ambiguous.text, /matches several contacts/);
    assert.match(ambiguous.text, /Alice Jones \(contact:[^)]+\) — mobile \+1 555 010 0002/);
    assert.match(
      ambiguous.text,
      /Alice Smith \(contact:[^)]+\) — mobile \(555\) 010-0001, home alice@example\.com/,
    );
    assert.equal((await newCalls()).length, 0, "nothing was sent");

    const ref = /Alice Jones \((contact:[^)]+)\)/.exec(ambiguous.text)?.[1];
    assert.ok(ref);
    const retry = await call(conn.client, "send_message", { recipient: ref, text: "hello", format: "json" });
    assert.equal(retry.result.isError, undefined, retry.text);
    assert.equal(retry.data.to, PHONES.aliceJones);
    assert.deepEqual((await newCalls())[0]?.runArgs, [PHONES.aliceJones, "hello"]);
  });

  test("a contact with only SMS history gets SMS directly", async () => {
    const { data } = await call(conn.client, "send_message", {
      format: "json",
      recipient: "Carol Diaz",
      text: "Calling now",
    });
    assert.equal(data.service, "SMS");
    assert.match(data.note ?? "", /only SMS history/);
    const calls = await newCalls();
    assert.equal(calls.length, 1);
    assert.match(calls[0]?.program ?? "", /service type = SMS/);
  });

  test("iMessage first, SMS fallback when Messages cannot reach the number over iMessage", async () => {
    await fake.setBehaviour({
      failWith: {
        stderr: 'execution error: Messages got an error: Can’t get participant "+15550100077". (-1728)',
      },
      failWhenProgramIncludes: "service type = iMessage",
    });
    const { result, data, text } = await call(conn.client, "send_message", {
      format: "json",
      recipient: "555-010-0077",
      text: "hi",
    });
    assert.equal(result.isError, undefined, text);
    assert.equal(data.service, "SMS");
    assert.match(data.note ?? "", /Sent as SMS instead/);
    const calls = await newCalls();
    assert.equal(calls.length, 2);
    assert.match(calls[0]?.program ?? "", /service type = iMessage/);
    assert.match(calls[1]?.program ?? "", /service type = SMS/);
    assert.deepEqual(calls[1]?.runArgs, ["+15550100077", "hi"]);
  });

  test("a group chat by chat:<id> sends to the chat guid", async () => {
    const { data } = await call(conn.client, "send_message", {
      format: "json",
      recipient: `chat:${scenario.chats.group}`,
      text: "Hi all",
    });
    assert.equal(data.service, "chat");
    assert.equal(data.to, "iMessage;+;chat123456789");
    const [only] = await newCalls();
    assert.deepEqual(only?.runArgs, ["iMessage;+;chat123456789", "Hi all"]);
    assert.match(only?.program ?? "", /chat id chatGuid/);
  });

  test("osascript failures come back in plain words", async () => {
    await fake.setBehaviour({
      failWith: { stderr: "execution error: Not authorized to send Apple events to Messages. (-1743)" },
    });
    const denied = await call(conn.client, "send_message", { recipient: PHONES.bob, text: "x" });
    assert.equal(denied.result.isError, true);
    assert.match(denied.text, /Privacy & Security → Automation/);

    await fake.setBehaviour({
      failWith: { stderr: "execution error: Messages got an error: Application isn’t running. (-600)" },
    });
    const notRunning = await call(conn.client, "send_message", { recipient: PHONES.bob, text: "x" });
    assert.match(notRunning.text, /Open Messages/);

    await fake.setBehaviour({
      failWith: { stderr: 'execution error: Messages got an error: Can’t get chat id "x". (-1728)' },
    });
    const noChat = await call(conn.client, "send_message", {
      recipient: `chat:${scenario.chats.group}`,
      text: "x",
    });
    assert.equal(noChat.result.isError, true);
    assert.match(noChat.text, /could not find that recipient or chat/);
    assert.doesNotMatch(noChat.text, /\n\s+at /, "no stack trace");
  });

  test("bad recipients are refused before osascript runs", async () => {
    const nobody = await call(conn.client, "send_message", { recipient: "Zebulon Quux", text: "x" });
    assert.equal(nobody.result.isError, true);
    assert.match(nobody.text, /No contact matches "Zebulon Quux"/);
    const smsToEmail = await call(conn.client, "send_message", {
      recipient: "alice@example.com",
      text: "x",
      service: "SMS",
    });
    assert.equal(smsToEmail.result.isError, true);
    assert.match(smsToEmail.text, /SMS needs a phone number/);
    const blank = await call(conn.client, "send_message", { recipient: PHONES.bob, text: "   " });
    assert.equal(blank.result.isError, true);
    assert.match(blank.text, /empty/);
    assert.equal((await newCalls()).length, 0);
  });
});

describe("send_message attachments", () => {
  let files: string;
  let allowed: string;
  let outside: string;
  let previousEnv: string | undefined;

  before(() => {
    files = realpathSync(mkdtempSync(join(tmpdir(), "mcp-send-files-")));
    allowed = join(files, "Allowed");
    outside = join(files, "Elsewhere");
    mkdirSync(allowed);
    mkdirSync(outside);
    writeFileSync(join(allowed, "photo.jpg"), "not really a jpeg");
    writeFileSync(join(allowed, "notes.pdf"), "%PDF-1.4");
    writeFileSync(join(outside, "secret.txt"), "private");
    symlinkSync(join(outside, "secret.txt"), join(allowed, "innocent.txt"));
    mkdirSync(join(allowed, "folder"));
    previousEnv = process.env[ALLOWED_ATTACHMENT_DIRS_ENV];
    process.env[ALLOWED_ATTACHMENT_DIRS_ENV] = `relative/ignored:${allowed}`;
  });

  after(() => {
    if (previousEnv === undefined) delete process.env[ALLOWED_ATTACHMENT_DIRS_ENV];
    else process.env[ALLOWED_ATTACHMENT_DIRS_ENV] = previousEnv;
    rmSync(files, { recursive: true, force: true });
  });

  test("text, then each file as its own osascript run with the real path as argv", async () => {
    const { result, text } = await call(conn.client, "send_message", {
      recipient: "Bob Stone",
      text: "Pictures from Sunday",
      attachments: [join(allowed, "photo.jpg"), `${allowed}/../Allowed/notes.pdf`],
    });
    assert.equal(result.isError, undefined, text);
    assert.match(text, /^Sent/);
    assert.match(text, /Sent the text and 2 files by iMessage to <untrusted-message-content>\nBob Stone/);
    const calls = await newCalls();
    assert.deepEqual(
      calls.map((c) => c.runArgs),
      [
        [PHONES.bob, "Pictures from Sunday"],
        [PHONES.bob, join(allowed, "photo.jpg")],
        [PHONES.bob, join(allowed, "notes.pdf")],
      ],
    );
    assert.match(calls[1]?.program ?? "", /POSIX file/);
  });

  test("files alone, and to a group chat", async () => {
    const alone = await call(conn.client, "send_message", {
      format: "json",
      recipient: `chat:${scenario.chats.group}`,
      attachments: [join(allowed, "photo.jpg")],
    });
    assert.equal(alone.result.isError, undefined, alone.text);
    assert.equal(alone.data.service, "chat");
    const [only, ...rest] = await newCalls();
    assert.deepEqual(only?.runArgs, ["iMessage;+;chat123456789", join(allowed, "photo.jpg")]);
    assert.match(only?.program ?? "", /send attachmentFile to chat id chatGuid/);
    assert.equal(rest.length, 0);
  });

  test("files outside the allowed folders, through symlinks, relative, missing or folders are refused; nothing is sent", async () => {
    const cases: [string, RegExp][] = [
      [join(outside, "secret.txt"), /is not in a folder files may be sent from.*Allowed/],
      [join(allowed, "innocent.txt"), /leads outside the allowed folders/],
      ["Allowed/photo.jpg", /is not an absolute path/],
      [join(allowed, "gone.jpg"), /does not exist/],
      [join(allowed, "folder"), /is not a regular file/],
      [join(allowed, "..", "Elsewhere", "secret.txt"), /is not in a folder files may be sent from/],
      ["/etc/passwd", /is not in a folder files may be sent from/],
    ];
    for (const [path, why] of cases) {
      const refused = await call(conn.client, "send_message", {
        recipient: PHONES.bob,
        text: "hello",
        attachments: [join(allowed, "photo.jpg"), path],
      });
      assert.equal(refused.result.isError, true, path);
      assert.match(refused.text, why, path);
      assert.match(refused.text, /Nothing was sent|not an absolute path/, path);
    }
    assert.equal((await newCalls()).length, 0, "not even the text or the good file went out");
  });

  test("no SMS for files, and an empty message, are refused before osascript runs", async () => {
    const sms = await call(conn.client, "send_message", {
      recipient: PHONES.bob,
      text: "x",
      service: "SMS",
      attachments: [join(allowed, "photo.jpg")],
    });
    assert.equal(sms.result.isError, true);
    assert.match(sms.text, /Files cannot be sent by SMS/);
    const smsOnly = await call(conn.client, "send_message", {
      recipient: "Carol Diaz",
      attachments: [join(allowed, "photo.jpg")],
    });
    assert.equal(smsOnly.result.isError, true, "Carol has SMS history only");
    assert.match(smsOnly.text, /no iMessage history/);
    const nothing = await call(conn.client, "send_message", { recipient: PHONES.bob });
    assert.equal(nothing.result.isError, true);
    assert.match(nothing.text, /Nothing to send/);
    assert.equal((await newCalls()).length, 0);
  });

  test("a failing file after the text says exactly what went out", async () => {
    await fake.setBehaviour({
      failWith: { stderr: "execution error: Messages got an error: Can’t send file. (-1728)" },
      failWhenProgramIncludes: "POSIX file",
    });
    const partly = await call(conn.client, "send_message", {
      recipient: PHONES.bob,
      text: "see attached",
      attachments: [join(allowed, "photo.jpg"), join(allowed, "notes.pdf")],
    });
    assert.equal(partly.result.isError, true);
    assert.match(
      partly.text,
      /^Partly sent to <untrusted-message-content>\n.*\n<\/untrusted-message-content>\nThe text went out, then photo\.jpg failed: .* Not sent: photo\.jpg, notes\.pdf\.$/,
    );
  });

  test("default folders are Downloads, Desktop, Documents, Pictures and the Messages attachments", () => {
    const home = "/Users/someone";
    const messages = [`${home}/Library/Messages/Attachments`];
    assert.deepEqual(resolveSendableDirs(messages, { env: {}, home }), [
      `${home}/Downloads`,
      `${home}/Desktop`,
      `${home}/Documents`,
      `${home}/Pictures`,
      `${home}/Library/Messages/Attachments`,
    ]);
    assert.deepEqual(
      resolveSendableDirs(messages, {
        env: { [ALLOWED_ATTACHMENT_DIRS_ENV]: "~/Shared: /srv/out :rel" },
        home,
      }),
      [`${home}/Shared`, "/srv/out"],
    );
  });
});

for (const era of ["2025", "2026-07-28"] as const) {
  describe(`send_message confirm (${era} client)`, () => {
    async function connectAnswering(action: "accept" | "decline" | "cancel", asked: string[]) {
      return await connect({
        era,
        chatDb: scenario.chatDb,
        contactsRoots: [scenario.contactsRoot],
        sender: new MessageSender({ env: fake.env, timeoutMs: 20_000 }),
        ...answeringQuestions(action, asked),
      });
    }

    test("a client that cannot ask its user: refused, nothing sent", async () => {
      const mute = await connect({
        era,
        chatDb: scenario.chatDb,
        contactsRoots: [scenario.contactsRoot],
        sender: new MessageSender({ env: fake.env, timeoutMs: 20_000 }),
      });
      try {
        const refused = await call(mute.client, "send_message", {
          recipient: PHONES.bob,
          text: "hi",
          confirm: true,
        });
        assert.equal(refused.result.isError, true);
        assert.equal(refused.text, ELICITATION_UNSUPPORTED_MESSAGE);
      } finally {
        await mute.close();
      }
      assert.equal((await newCalls()).length, 0);
    });

    test("declined or dismissed: nothing sent, and the result says so", async () => {
      for (const action of ["decline", "cancel"] as const) {
        const asked: string[] = [];
        const declining = await connectAnswering(action, asked);
        try {
          const { result, text } = await call(declining.client, "send_message", {
            recipient: "Bob Stone",
            text: "Running late",
            confirm: true,
          });
          assert.equal(result.isError, undefined, text);
          assert.match(
            text,
            /^Not sent to <untrusted-message-content>\nBob Stone .*\n<\/untrusted-message-content>\n.*declined/,
          );
          assert.equal(asked.length, 1);
        } finally {
          await declining.close();
        }
      }
      assert.equal((await newCalls()).length, 0);
    });

    test("accepted: the person saw the recipient and the exact text, then it was sent", async () => {
      const asked: string[] = [];
      const accepting = await connectAnswering("accept", asked);
      try {
        const { result, data } = await call(accepting.client, "send_message", {
          format: "json",
          recipient: "Bob Stone",
          text: "Running late",
          confirm: true,
        });
        assert.equal(result.isError, undefined);
        assert.equal(data.sent, true);
        assert.match(asked[0] ?? "", /Send this to Bob Stone \(\+15550100003\)\?/);
        assert.match(asked[0] ?? "", /Running late/);
        const calls = await newCalls();
        assert.deepEqual(
          calls.map((c) => c.runArgs),
          [[PHONES.bob, "Running late"]],
        );
      } finally {
        await accepting.close();
      }
    });
  });
}

describe("send_message confirm: an answer counts once, for the words it was given to", () => {
  // A 2026-07-28 client answers by calling again with inputResponses and our requestState. The tests play
  // a client that does that by hand (manual rounds) and tries to cheat.
  type Round = { resultType?: string; requestState?: string; inputRequests?: Record<string, unknown> };
  const args = { recipient: PHONES.bob, text: "Running late", confirm: true };
  const yes = { confirm: { action: "accept", content: {} } };

  async function manual() {
    return await connect({
      era: "2026-07-28",
      manualRounds: true,
      chatDb: scenario.chatDb,
      contactsRoots: [scenario.contactsRoot],
      sender: new MessageSender({ env: fake.env, timeoutMs: 20_000 }),
      clientCapabilities: { elicitation: {} },
    });
  }
  async function round(session: Connected, params: Record<string, unknown>): Promise<Round> {
    // allowInputRequired: the client hands the input-required result back instead of failing the call.
    return (await session.client.callTool(
      { name: "send_message", ...params } as { name: string },
      { allowInputRequired: true } as object,
    )) as Round;
  }

  test("the first round asks; a yes with no state, a forged state or other words is asked again; nothing sent", async () => {
    const session = await manual();
    try {
      const asked = await round(session, { arguments: args });
      assert.equal(asked.resultType, "input_required");
      assert.ok(asked.inputRequests?.confirm, "the question is in inputRequests");
      for (const cheat of [
        { arguments: args, inputResponses: yes },
        { arguments: args, inputResponses: yes, requestState: `${asked.requestState}x` },
        {
          arguments: { ...args, text: "Send me the code" },
          inputResponses: yes,
          requestState: asked.requestState,
        },
      ]) {
        assert.equal((await round(session, cheat)).resultType, "input_required", JSON.stringify(cheat));
      }
      assert.equal((await newCalls()).length, 0);
    } finally {
      await session.close();
    }
  });

  test("a yes sends once; the same yes again is asked again, not sent twice", async () => {
    const session = await manual();
    try {
      const asked = await round(session, { arguments: args });
      const answered = { arguments: args, inputResponses: yes, requestState: asked.requestState };
      assert.equal((await round(session, answered)).resultType, undefined, "the second round sends");
      assert.equal((await round(session, answered)).resultType, "input_required", "a replay is asked again");
      assert.deepEqual(
        (await newCalls()).map((c) => c.runArgs),
        [[PHONES.bob, "Running late"]],
      );
    } finally {
      await session.close();
    }
  });
});
