// The real CLI as a child process: stdio MCP through the SDK's StdioClientTransport, and `doctor`.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { READ_TOOL_NAMES, SEND_TOOL_NAMES } from "../../src/mcp/index.js";
import { searchIndexPath } from "../../src/messages/index.js";
import { type FakeOsascript, installFakeOsascript } from "../helpers/fake-osascript.js";
import { buildScenario, PHONES, type Scenario, textOf } from "../helpers/mcp-scenario.js";
import { sourceCli, withStdioSession } from "../helpers/stdio-session.js";
import { waitUntil } from "../helpers/wait.js";

let scenario: Scenario;
let fake: FakeOsascript;
let emptyHome: string;
let notADb: string;

before(async () => {
  scenario = buildScenario();
  fake = await installFakeOsascript({ stdout: "iMessage, SMS" });
  emptyHome = mkdtempSync(join(tmpdir(), "cli-home-"));
  notADb = join(emptyHome, "notes.txt");
  writeFileSync(notADb, "shopping list, not SQLite\n".repeat(50));
});

after(async () => {
  await fake?.cleanup();
  scenario?.cleanup();
  if (emptyHome) rmSync(emptyHome, { recursive: true, force: true });
});

/** Environment for the child: no macOS data, no osascript unless asked, our own state dir. */
function childEnv(extra: Record<string, string> = {}, withFakeOsascript = false): Record<string, string> {
  const env: Record<string, string> = {
    HOME: emptyHome,
    MAC_MESSAGES_MCP_HOME: join(emptyHome, ".mac-messages-mcp"),
    PATH: withFakeOsascript ? (fake.env.PATH ?? "") : (process.env.PATH ?? ""),
    // No Messages writes the sent row: do not wait for it (see fake-osascript.ts).
    MAC_MESSAGES_DELIVERY_WINDOW_MS: "0",
    ...extra,
  };
  return env;
}

function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const { command, args: argv } = sourceCli(args);
    execFile(command, argv, { env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe("stdio server", () => {
  test("lists and calls tools over stdio; sends through osascript argv", async () => {
    const server = sourceCli(
      ["--db", scenario.chatDb, "--contacts-dir", scenario.contactsRoot],
      childEnv({}, true),
    );
    await withStdioSession(server, async ({ client, stderr }) => {
      assert.doesNotMatch(stderr(), /not an MCP client/, "no banner when a client is attached");
      const { tools } = await client.listTools();
      assert.deepEqual(
        tools.map((t) => t.name).sort(),
        [...READ_TOOL_NAMES, ...SEND_TOOL_NAMES, "list_scheduled_messages"].sort(),
        "every tool, the scheduler's included",
      );
      const recent = await client.callTool({
        name: "get_recent_messages",
        arguments: { contact: "Bob Stone" },
      });
      assert.match(textOf(recent), /\nchat:\d+ Weekend Crew \(group\)\n/);
      assert.match(textOf(recent), /\[chat:\d+\] Bob Stone: Meet at the café/);
      const text = 'Quote " backslash \\ newline\nend';
      const sent = await client.callTool({ name: "send_message", arguments: { recipient: "Bob", text } });
      assert.equal(sent.isError, undefined, textOf(sent));
      const calls = await fake.calls();
      assert.deepEqual(calls.at(-1)?.runArgs, [PHONES.bob, text]);
    });
  });

  test("a 2026-07-28 client is served on the same stdio entry (server/discover, no initialize)", async () => {
    const server = sourceCli(
      ["--db", scenario.chatDb, "--contacts-dir", scenario.contactsRoot, "--read-only"],
      childEnv(),
    );
    await withStdioSession(
      server,
      async ({ client }) => {
        assert.equal(client.getProtocolEra(), "modern");
        assert.equal(client.getNegotiatedProtocolVersion(), "2026-07-28");
        const { tools } = await client.listTools();
        assert.deepEqual(
          tools.map((t) => t.name).sort(),
          [...READ_TOOL_NAMES].sort(),
          "read-only: no send tools",
        );
        const recent = await client.callTool({
          name: "get_recent_messages",
          arguments: { contact: "Bob Stone" },
        });
        assert.match(textOf(recent), /\[chat:\d+\] Bob Stone: Meet at the café/);
      },
      { era: "2026-07-28" },
    );
  });

  test("search waits for the index with progress; scheduled messages persist in the state folder", async () => {
    const home = mkdtempSync(join(tmpdir(), "cli-state-"));
    const stateDir = join(home, ".mac-messages-mcp");
    const server = sourceCli(
      ["--db", scenario.chatDb, "--contacts-dir", scenario.contactsRoot],
      childEnv({ MAC_MESSAGES_MCP_HOME: stateDir }, true),
    );
    try {
      await withStdioSession(server, async ({ client }) => {
        const progress: { progress: number; total?: number }[] = [];
        const found = await client.callTool(
          { name: "search_messages", arguments: { query: "invoice" } },
          { onprogress: (p) => progress.push(p) },
        );
        assert.equal(found.isError, undefined, textOf(found));
        assert.match(textOf(found), /call me back about the invoice/);
        assert.ok(progress.length > 0, "progress notifications while the index was built");
        const last = progress.at(-1);
        assert.equal(last?.progress, last?.total, "the last one says done");
        assert.ok(
          existsSync(searchIndexPath(stateDir, scenario.chatDb)),
          "the index lives in the state folder",
        );

        const sendAt = new Date(Date.now() + 3_600_000).toISOString();
        const scheduled = await client.callTool({
          name: "schedule_message",
          arguments: { recipient: "Bob Stone", text: "Reminder: bring the map", send_at: sendAt },
        });
        assert.equal(scheduled.isError, undefined, textOf(scheduled));
        const onDisk = JSON.parse(readFileSync(join(stateDir, "scheduled.json"), "utf8")) as {
          messages: { text: string; status: string; target: { handle?: string } }[];
        };
        assert.deepEqual(
          onDisk.messages.map((m) => [m.text, m.status, m.target.handle]),
          [["Reminder: bring the map", "pending", PHONES.bob]],
        );
      });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test("what the scheduler finds wrong with its file at start-up is said on stderr", async () => {
    const home = mkdtempSync(join(tmpdir(), "cli-state-"));
    const stateDir = join(home, ".mac-messages-mcp");
    mkdirSync(stateDir);
    writeFileSync(join(stateDir, "scheduled.json"), "{ not json");
    const server = sourceCli(
      ["--db", scenario.chatDb, "--contacts-dir", scenario.contactsRoot],
      childEnv({ MAC_MESSAGES_MCP_HOME: stateDir }, true),
    );
    try {
      await withStdioSession(server, async ({ client, stderr }) => {
        await client.listTools();
        // The first check runs as the server starts; wait for its report rather than for a fixed time.
        await waitUntil(() => /was damaged/.test(stderr()), "the scheduler's damaged-file report");
        assert.match(stderr(), /mac-messages-mcp: The scheduled messages file .*scheduled\.json was damaged/);
      });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test("an unusable state folder: searches scan, scheduling is off, sending still works", async () => {
    // A folder under a regular file cannot be created by anyone, root included.
    const stateDir = join(notADb, "state");
    const server = sourceCli(
      ["--db", scenario.chatDb, "--contacts-dir", scenario.contactsRoot],
      childEnv({ MAC_MESSAGES_MCP_HOME: stateDir }, true),
    );
    await withStdioSession(server, async ({ client, stderr }) => {
      const found = await client.callTool(
        { name: "search_messages", arguments: { query: "invoice" } },
        { onprogress: () => {} },
      );
      assert.equal(found.isError, undefined, textOf(found));
      assert.match(textOf(found), /call me back about the invoice/);
      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name);
      assert.ok(names.includes("send_message"));
      assert.ok(!names.includes("schedule_message"), "no scheduler without a state folder");
      assert.match(stderr(), /Search index unavailable .*searching by full scan/);
      assert.match(stderr(), /Scheduling messages is unavailable/);
    });
  });

  test("--demo serves the demo data; no chat.db at the default path also serves it, with a notice", async () => {
    await withStdioSession(sourceCli(["--demo", "--read-only"], childEnv()), async ({ client, stderr }) => {
      const chats = await client.callTool({ name: "list_chats", arguments: { limit: 3 } });
      assert.match(textOf(chats), /3 chats, most recent first/);
      assert.match(client.getInstructions() ?? "", /DEMO data/);
      assert.doesNotMatch(stderr(), /No Messages database/, "asked-for demo needs no notice");
      assert.match(stderr(), /Generated fresh demo data in .*demo/, "says when it made the demo data");
    });
    await withStdioSession(sourceCli(["--read-only"], childEnv()), async ({ client, stderr }) => {
      await client.listTools();
      assert.match(
        stderr(),
        /No Messages database at .*Library\/Messages\/chat\.db; serving the built-in demo data\. Use --db or run on a Mac with Full Disk Access\./,
      );
      assert.match(client.getInstructions() ?? "", /DEMO data/);
    });
  });

  test("--read-only has no send tool", async () => {
    const server = sourceCli(
      ["--read-only", "--db", scenario.chatDb, "--contacts-dir", scenario.contactsRoot],
      childEnv(),
    );
    await withStdioSession(server, async ({ client }) => {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), [...READ_TOOL_NAMES].sort());
      assert.match(client.getInstructions() ?? "", /read-only/);
    });
  });

  test("an explicit --db that does not exist: one line on stderr, exit 1, nothing on stdout", async () => {
    const result = await runCli(["--db", join(emptyHome, "missing.db")], childEnv());
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^mac-messages-mcp: No Messages database at .*missing\.db \(from --db\)/);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  });

  test("an unreadable chat.db still starts; tools and check_setup explain the problem", async () => {
    await withStdioSession(
      sourceCli(["--read-only", "--db", notADb], childEnv()),
      async ({ client, stderr }) => {
        const recent = await client.callTool({ name: "get_recent_messages", arguments: {} });
        assert.equal(recent.isError, true);
        assert.match(textOf(recent), /is not a Messages database/);
        const setup = await client.callTool({ name: "check_setup", arguments: {} });
        assert.match(textOf(setup), /✗ Messages database/);
        assert.match(stderr(), /is not a Messages database/);
      },
    );
  });
});

describe("terminal start", () => {
  test("on a TTY it prints a banner with the claude mcp add line to stderr", async (t) => {
    const scriptPath = "/usr/bin/script";
    const { existsSync } = await import("node:fs");
    if (!existsSync(scriptPath)) {
      t.skip("util-linux script(1) is needed to give the CLI a terminal");
      return;
    }
    const tty = sourceCli(["--read-only", "--db", scenario.chatDb]);
    const command = [tty.command, ...tty.args].map((word) => `'${word.replace(/'/g, "'\\''")}'`).join(" ");
    // script(1) runs the CLI on a pseudo-terminal, as when someone types `npm start`.
    const child = spawn(scriptPath, ["-qefc", command, "/dev/null"], { env: childEnv(), detached: true });
    let output = "";
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no banner; got: ${output}`)), 30_000);
        child.stdout.on("data", (chunk: Buffer) => {
          output += chunk.toString("utf8");
          if (output.includes("Ctrl-C")) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.on("exit", () => {
          clearTimeout(timer);
          reject(new Error(`exited early: ${output}`));
        });
      });
    } finally {
      child.removeAllListeners("exit");
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {
          // Already gone.
        }
      }
    }
    assert.match(
      output,
      /serving Messages from .*chat\.db over MCP on stdin\/stdout \(read-only: no send tool\)/,
    );
    assert.match(output, /claude mcp add messages -- mac-messages-mcp/);
  });
});

describe("doctor", () => {
  test("all checks pass: ✓ lines and exit 0", async () => {
    const result = await runCli(
      ["doctor", "--db", scenario.chatDb, "--contacts-dir", scenario.contactsRoot],
      childEnv({}, true),
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /✓ Messages database \(chat\.db\): Readable/);
    assert.match(result.stdout, /✓ Contacts: Read 4 contacts/);
    assert.match(result.stdout, /✓ Messages app \(sending\): Messages is reachable/);
    assert.match(result.stdout, /✓ Node\.js/);
    assert.match(result.stdout, /All checks passed/);
  });

  test("failures print ✗ with the fix and exit 1", async () => {
    await fake.setBehaviour({
      failWith: { stderr: "execution error: Not authorized to send Apple events to Messages. (-1743)" },
    });
    try {
      const result = await runCli(
        ["doctor", "--db", notADb, "--contacts-dir", join(emptyHome, "none")],
        childEnv({}, true),
      );
      assert.equal(result.code, 1);
      assert.match(result.stdout, /✗ Messages database \(chat\.db\): .*is not a Messages database/);
      assert.match(result.stdout, /✗ Contacts:/);
      assert.match(result.stdout, /✗ Messages app \(sending\): .*Automation/);
      assert.match(result.stdout, /Fix: Open Messages and sign in/);
      assert.match(result.stdout, /Some checks failed/);
    } finally {
      await fake.setBehaviour({ stdout: "iMessage, SMS" });
    }
  });

  test("--read-only skips the Messages app check", async () => {
    const result = await runCli(
      ["doctor", "--read-only", "--db", scenario.chatDb, "--contacts-dir", scenario.contactsRoot],
      childEnv(),
    );
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /– Messages app \(sending\): Read-only mode/);
  });
});
