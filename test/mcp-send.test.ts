// send_message through the SDK client, the real send layer and a recording fake osascript on PATH.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { MessageSender } from "../src/send/index.js";
import { type FakeOsascript, installFakeOsascript } from "./helpers/fake-osascript.js";
import {
  buildScenario,
  type Connected,
  call,
  connect,
  defined,
  PHONES,
  type Scenario,
} from "./helpers/mcp-scenario.js";

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
    const { data, text } = await call(conn.client, "send_message", { recipient: "bob", text: "On my way" });
    assert.equal(data.to, PHONES.bob);
    assert.match(text, /Sent by iMessage to Bob Stone \(\+15550100003\)/);
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
    const retry = await call(conn.client, "send_message", { recipient: ref, text: "hello" });
    assert.equal(retry.result.isError, undefined, retry.text);
    assert.equal(retry.data.to, PHONES.aliceJones);
    assert.deepEqual((await newCalls())[0]?.runArgs, [PHONES.aliceJones, "hello"]);
  });

  test("a contact with only SMS history gets SMS directly", async () => {
    const { data } = await call(conn.client, "send_message", {
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
