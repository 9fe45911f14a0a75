import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AppleScriptError, runAppleScript } from "../../src/send/index.js";
import { processIsAlive } from "../../src/util/secure-file.js";
import { type FakeOsascript, installFakeOsascript } from "../helpers/fake-osascript.js";

const SCRIPT = "on run argv\n\treturn item 1 of argv\nend run\n";

describe("runAppleScript", () => {
  let fake: FakeOsascript;
  let scratch: string;

  before(async () => {
    fake = await installFakeOsascript({ stdout: "fine" });
    scratch = await mkdtemp(join(tmpdir(), "send-osascript-test-"));
  });
  after(async () => {
    await fake.cleanup();
    await rm(scratch, { recursive: true, force: true });
  });

  it("passes hostile arguments byte-identical to `on run argv` and keeps them out of the program", async () => {
    const marker = join(scratch, "pwned");
    const hostile = [
      "plain",
      "",
      'she said "hi"',
      "it's",
      "back\\slash \\\\ \\n \\u0041",
      "line one\nline two",
      "windows\r\nline\r\n",
      "emoji 😀👍🏽👨‍👩‍👧 and non-BMP 𝄞 𠜎",
      "-e",
      "--",
      "-",
      "-l",
      "JavaScript",
      "-l JavaScript",
      "-s",
      "-i",
      "--help",
      "-eeeee",
      `" & (do shell script "touch ${marker}") & "`,
      "end run",
      'end run\non run argv\ndo shell script "id"',
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `; touch ${marker}`,
      "* ? [a-z] ~ $HOME %PATH%",
      "x".repeat(100 * 1024),
    ];
    const { stdout } = await runAppleScript(SCRIPT, hostile, { env: fake.env });
    assert.equal(stdout, "fine\n");

    const calls = await fake.calls();
    assert.equal(calls.length, 1);
    const call = calls[0]!;
    assert.deepEqual(call.argv, ["--", "-", ...hostile]);
    assert.equal(call.programSource, "stdin");
    assert.deepEqual(call.runArgs, hostile);
    // The program is exactly the fixed text: nothing from the arguments was spliced into it.
    assert.equal(call.program, SCRIPT);
    assert.equal(existsSync(marker), false, "no shell may have run the payload");
  });

  it("maps each osascript error number to a plain-words error", async () => {
    const cases: { stderr: string; code: string; message: RegExp; number?: number }[] = [
      {
        stderr: "execution error: Not authorized to send Apple events to Messages. (-1743)",
        code: "automation_denied",
        message: /System Settings → Privacy & Security → Automation/,
        number: -1743,
      },
      {
        stderr: 'execution error: Messages got an error: Can’t get participant "+15550000000". (-1728)',
        code: "not_found",
        message: /could not find that recipient or chat/,
        number: -1728,
      },
      {
        stderr: "execution error: Messages got an error: Application isn’t running. (-600)",
        code: "app_not_running",
        message: /not running/,
        number: -600,
      },
      {
        stderr: "execution error: Messages got an error: Connection is invalid. (-609)",
        code: "app_not_running",
        message: /Open Messages/,
        number: -609,
      },
      {
        stderr: "execution error: Messages got an error: AppleEvent handler failed. (-10000)",
        code: "failed",
        message:
          /AppleScript failed: execution error: Messages got an error: AppleEvent handler failed\. \(-10000\)/,
        number: -10000,
      },
      {
        stderr: "-:52:60: syntax error: Expected end of line but found identifier. (-2741)",
        code: "failed",
        message: /syntax error: Expected end of line/,
        number: -2741,
      },
      { stderr: "something without a number", code: "failed", message: /something without a number/ },
    ];
    for (const c of cases) {
      await fake.setBehaviour({ failWith: { stderr: c.stderr } });
      await assert.rejects(runAppleScript(SCRIPT, ["x"], { env: fake.env }), (error: unknown) => {
        assert.ok(error instanceof AppleScriptError, `expected AppleScriptError for ${c.stderr}`);
        assert.equal(error.code, c.code, c.stderr);
        assert.match(error.message, c.message);
        assert.equal(error.osaErrorNumber, c.number);
        assert.ok(!error.message.includes("    at "), "no stack trace in the message");
        return true;
      });
    }
  });

  it("kills osascript when it runs past the timeout", async () => {
    // Generous timeout: the fake must get going first (Node can take seconds to start on a busy machine).
    await fake.setBehaviour({ sleepMs: 600_000, stdout: "too late" });
    const before = (await fake.started()).length;
    await assert.rejects(
      runAppleScript(SCRIPT, ["x"], { env: fake.env, timeoutMs: 3000 }),
      (error: unknown) => {
        assert.ok(error instanceof AppleScriptError);
        assert.equal(error.code, "timeout");
        assert.match(error.message, /did not finish within 3000 ms/);
        return true;
      },
    );
    const started = (await fake.started()).slice(before);
    assert.equal(started.length, 1, "one osascript was started");
    assert.equal(processIsAlive(started[0]!), false, "the timed-out osascript must be gone");
  });

  it("takes the timeout from MAC_MESSAGES_OSASCRIPT_TIMEOUT_MS and rejects a bad value clearly", async () => {
    await fake.setBehaviour({ sleepMs: 60_000 });
    await assert.rejects(
      runAppleScript(SCRIPT, [], { env: { ...fake.env, MAC_MESSAGES_OSASCRIPT_TIMEOUT_MS: "300" } }),
      (error: unknown) =>
        error instanceof AppleScriptError && error.code === "timeout" && /300 ms/.test(error.message),
    );
    await assert.rejects(
      runAppleScript(SCRIPT, [], { env: { ...fake.env, MAC_MESSAGES_OSASCRIPT_TIMEOUT_MS: "soon" } }),
      /MAC_MESSAGES_OSASCRIPT_TIMEOUT_MS must be a positive whole number of milliseconds, got "soon"/,
    );
  });

  it("stops osascript when the caller aborts", async () => {
    await fake.setBehaviour({ sleepMs: 60_000 });
    const controller = new AbortController();
    const running = runAppleScript(SCRIPT, [], { env: fake.env, signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(
      running,
      (error: unknown) => error instanceof AppleScriptError && error.code === "aborted",
    );
  });

  it("says sending needs macOS when there is no osascript on PATH", async () => {
    const emptyDir = await mkdtemp(join(tmpdir(), "no-osascript-"));
    try {
      await assert.rejects(runAppleScript(SCRIPT, ["x"], { env: { PATH: emptyDir } }), (error: unknown) => {
        assert.ok(error instanceof AppleScriptError);
        assert.equal(error.code, "not_macos");
        assert.match(error.message, /Sending needs macOS/);
        return true;
      });
    } finally {
      await rm(emptyDir, { recursive: true, force: true });
    }
  });

  it("refuses a NUL byte with a clear message instead of starting osascript", async () => {
    await fake.setBehaviour({});
    const before = (await fake.calls()).length;
    await assert.rejects(runAppleScript(SCRIPT, ["a\0b"], { env: fake.env }), /NUL character/);
    assert.equal((await fake.calls()).length, before);
  });
});
