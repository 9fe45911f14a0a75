// Issue #16 item 3 (local part): a send in flight when the server stops is never missing from audit.log.
// The real CLI serves stdio; the fake osascript holds the send "in flight" until the test releases it. Then
// the server is stopped the three ways the probe used: stdin closed, SIGTERM, kill -9.
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type FakeOsascript, installFakeOsascript } from "../helpers/fake-osascript.js";
import { buildScenario, PHONES, type Scenario } from "../helpers/mcp-scenario.js";
import { sourceCli } from "../helpers/stdio-session.js";
import { waitUntil } from "../helpers/wait.js";

const SLOW = { timeout: 180_000 };

let scenario: Scenario;
let fake: FakeOsascript;
let scratch: string;

before(async () => {
  scenario = buildScenario();
  fake = await installFakeOsascript({ stdout: "sent" });
  scratch = mkdtempSync(join(tmpdir(), "send-shutdown-"));
});
after(async () => {
  await fake?.cleanup();
  scenario?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

interface Server {
  child: ChildProcessWithoutNullStreams;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  request(id: number, method: string, params: unknown): void;
}

function startServer(home: string): Server {
  const cli = sourceCli(["--db", scenario.chatDb, "--contacts-dir", scenario.contactsRoot]);
  const child = spawn(cli.command, cli.args, {
    env: {
      HOME: home,
      MAC_MESSAGES_MCP_HOME: join(home, "state"),
      PATH: fake.env.PATH ?? "",
      MAC_MESSAGES_DELIVERY_WINDOW_MS: "0",
    },
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const write = (message: unknown) => child.stdin.write(`${JSON.stringify(message)}\n`);
  write({
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "shutdown-test", version: "1" },
    },
  });
  write({ jsonrpc: "2.0", method: "notifications/initialized" });
  return {
    child,
    stderr: () => stderr,
    exited,
    request: (id, method, params) => write({ jsonrpc: "2.0", id, method, params }),
  };
}

function sendLines(home: string): Record<string, unknown>[] {
  const path = join(home, "state", "audit.log");
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.kind === "send_message");
}

/** Starts a server, asks it to send, and resolves once osascript is running (the send is in flight). */
async function sendInFlight(name: string): Promise<{ server: Server; home: string; release: () => void }> {
  const home = mkdtempSync(join(scratch, `${name}-`));
  const releaseFile = join(home, "release");
  await fake.setBehaviour({ stdout: "sent", waitForFile: releaseFile });
  const before = (await fake.started()).length;
  const server = startServer(home);
  server.request(1, "tools/call", {
    name: "send_message",
    arguments: { recipient: PHONES.bob, text: `in flight: ${name}` },
  });
  await waitUntil(async () => (await fake.started()).length > before, "osascript to start", 120_000);
  const ahead = sendLines(home);
  assert.equal(ahead.length, 1, "written ahead before osascript started");
  assert.equal(ahead[0]?.phase, "sending");
  return { server, home, release: () => writeFileSync(releaseFile, "") };
}

describe("a send in flight when the server stops", () => {
  for (const how of ["stdin closed", "SIGTERM"] as const) {
    test(`${how}: the server lets osascript finish, audits the outcome, then exits`, SLOW, async () => {
      const { server, home, release } = await sendInFlight(how.replace(/\W/g, "-"));
      if (how === "SIGTERM") server.child.kill("SIGTERM");
      else server.child.stdin.end();
      // Released only after the stop was asked for: a server that exited at once would never audit it.
      release();
      const { code } = await server.exited;
      assert.equal(code, 0, server.stderr());
      const lines = sendLines(home);
      assert.deepEqual(
        lines.map((l) => l.phase),
        ["sending", "sent"],
        JSON.stringify(lines),
      );
      assert.equal(lines[0]?.attempt, lines[1]?.attempt);
      assert.equal(lines[1]?.ok, true);
    });
  }

  test(
    "kill -9: the write-ahead line survives and the next start records it as interrupted",
    SLOW,
    async () => {
      const { server, home, release } = await sendInFlight("kill-9");
      server.child.kill("SIGKILL");
      await server.exited;
      release(); // the orphaned osascript delivers; nobody is left to audit it
      assert.deepEqual(
        sendLines(home).map((l) => l.phase),
        ["sending"],
      );

      const next = startServer(home);
      await waitUntil(() => sendLines(home).length > 1, "the restarted server to recover the send", 120_000);
      next.child.stdin.end();
      await next.exited;
      const lines = sendLines(home);
      assert.deepEqual(
        lines.map((l) => l.phase),
        ["sending", "interrupted"],
      );
      assert.equal(lines[1]?.attempt, lines[0]?.attempt);
      assert.equal(lines[1]?.ok, null);
      assert.match(String(lines[1]?.error), /may or may not have been delivered/);
      assert.match(next.stderr(), /1 send was interrupted when the server last stopped/);
    },
  );
});
