// Issue #16 item 3 in remote mode: a send in flight when the remote server stops is never missing from
// audit.log. The real CLI (`mac-messages-mcp remote` over the real stores) runs as a child process, a token
// comes from the owner's consent form over HTTP, and the fake osascript holds the send "in flight" until the
// test releases it. Then the server is stopped with SIGTERM (launchd's stop) or kill -9.
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setOwnerPassword } from "../../src/remote/index.js";
import { type FakeOsascript, installFakeOsascript } from "../helpers/fake-osascript.js";
import { buildScenario, PHONES, type Scenario } from "../helpers/mcp-scenario.js";
import { getFreePort, OWNER_PASSWORD } from "../helpers/remote-fixtures.js";
import { obtainTokens } from "../helpers/remote-oauth-http.js";
import { mcpHeaders, readMcpAnswer } from "../helpers/security-remote.js";
import { waitUntil } from "../helpers/wait.js";

const MAIN = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");
const SLOW = { timeout: 240_000 };
/** A spawn through tsx can take a long while on a busy machine: wait for what it does, generously. */
const START_DEADLINE_MS = 120_000;

let scenario: Scenario;
let fake: FakeOsascript;
let scratch: string;
const children: ChildProcessWithoutNullStreams[] = [];

before(async () => {
  scenario = buildScenario();
  fake = await installFakeOsascript({ stdout: "sent" });
  scratch = mkdtempSync(join(tmpdir(), "remote-send-shutdown-"));
});
after(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await fake?.cleanup();
  scenario?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

interface Remote {
  child: ChildProcessWithoutNullStreams;
  serverUrl: string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `mac-messages-mcp remote` on a free loopback port, serving the scenario's chat.db; resolves once it listens. */
async function startRemote(home: string): Promise<Remote> {
  const port = await getFreePort();
  const serverUrl = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      MAIN,
      "--db",
      scenario.chatDb,
      "--contacts-dir",
      scenario.contactsRoot,
      "remote",
      "--server-url",
      serverUrl,
      "--port",
      String(port),
      "--state-dir",
      join(home, "state"),
    ],
    { env: { HOME: home, PATH: fake.env.PATH ?? "", MAC_MESSAGES_DELIVERY_WINDOW_MS: "0" } },
  );
  children.push(child);
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  await waitUntil(
    () => {
      if (child.exitCode !== null) throw new Error(`remote exited early:\n${stderr}`);
      return stderr.includes("listening on");
    },
    "the remote server to listen",
    START_DEADLINE_MS,
  );
  return { child, serverUrl, stderr: () => stderr, exited };
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

interface ToolAnswer {
  result?: { isError?: boolean; content: { type: string; text: string }[] };
  error?: { message: string };
}

/** tools/call send_message over Streamable HTTP with the client's token; resolves with its JSON-RPC answer. */
async function sendOverMcp(remote: Remote, token: string, text: string) {
  const res = await fetch(`${remote.serverUrl}/mcp`, {
    method: "POST",
    headers: mcpHeaders(token),
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "send_message", arguments: { recipient: PHONES.bob, text } },
    }),
  });
  const answer = await readMcpAnswer(res);
  return { status: answer.status, json: answer.json as ToolAnswer };
}

const textOf = (answer: ToolAnswer) =>
  answer.result?.content.map((c) => c.text).join("\n") ?? answer.error?.message ?? "";

/** A remote server with an approved client whose send_message is running in osascript, held there. */
async function sendInFlight(name: string) {
  const home = mkdtempSync(join(scratch, `${name}-`));
  await setOwnerPassword(join(home, "state"), OWNER_PASSWORD);
  const releaseFile = join(home, "release");
  await fake.setBehaviour({ stdout: "sent", waitForFile: releaseFile });
  const remote = await startRemote(home);
  const tokens = await obtainTokens(remote.serverUrl);
  const started = (await fake.started()).length;
  // Settles either way at once: after kill -9 the request fails, and that is expected there.
  const answer = sendOverMcp(remote, tokens.access_token, `in flight: ${name}`).catch(
    (error: Error) => error,
  );
  await waitUntil(
    async () => (await fake.started()).length > started,
    "osascript to start",
    START_DEADLINE_MS,
  );
  const ahead = sendLines(home);
  assert.equal(ahead.length, 1, "written ahead before osascript started");
  assert.equal(ahead[0]?.phase, "sending");
  assert.equal(ahead[0]?.clientId, tokens.clientId, "the audit names the OAuth client that sent");
  return { home, remote, tokens, answer, release: () => writeFileSync(releaseFile, "") };
}

describe("remote mode: a send in flight when the server stops", () => {
  test(
    "SIGTERM: the send finishes, is audited and answered; new sends are refused meanwhile; exit 0",
    SLOW,
    async () => {
      const { home, remote, tokens, answer, release } = await sendInFlight("sigterm");
      remote.child.kill("SIGTERM");
      await waitUntil(() => remote.stderr().includes("SIGTERM: stopping"), "the server to start stopping");

      // While it drains, the server still answers, but sends nothing new.
      const refused = await sendOverMcp(remote, tokens.access_token, "asked for while stopping");
      assert.equal(refused.status, 200);
      assert.equal(refused.json.result?.isError, true, JSON.stringify(refused.json));
      assert.match(textOf(refused.json), /server is stopping, so nothing was sent/);

      // Released only after the stop was asked for: a server that exited at once would never audit it.
      release();
      const delivered = await answer;
      assert.ok(!(delivered instanceof Error), String(delivered));
      assert.equal(delivered.status, 200);
      assert.notEqual(delivered.json.result?.isError, true, JSON.stringify(delivered.json));
      const stopAsked = Date.now();
      const { code } = await remote.exited;
      console.log(`stopped ${Date.now() - stopAsked} ms after the send was released`);
      assert.equal(code, 0, remote.stderr());

      const lines = sendLines(home);
      assert.deepEqual(
        lines.map((l) => l.phase),
        ["sending", "sent"],
        JSON.stringify(lines),
      );
      assert.equal(lines[1]?.attempt, lines[0]?.attempt);
      assert.equal(lines[1]?.ok, true);
      assert.equal(lines[1]?.clientId, tokens.clientId);
    },
  );

  test(
    "kill -9: the write-ahead line survives and the next remote start records it as interrupted",
    SLOW,
    async () => {
      const { home, remote, answer, release } = await sendInFlight("kill-9");
      remote.child.kill("SIGKILL");
      await remote.exited;
      assert.ok((await answer) instanceof Error, "the connection died with the server");
      release(); // the orphaned osascript delivers; nobody is left to audit it
      assert.deepEqual(
        sendLines(home).map((l) => l.phase),
        ["sending"],
      );

      const next = await startRemote(home);
      const lines = sendLines(home);
      assert.deepEqual(
        lines.map((l) => l.phase),
        ["sending", "interrupted"],
        "recovered before the server listens",
      );
      assert.equal(lines[1]?.attempt, lines[0]?.attempt);
      assert.equal(lines[1]?.ok, null);
      assert.match(String(lines[1]?.error), /may or may not have been delivered/);
      assert.match(next.stderr(), /1 send was interrupted when the server last stopped/);

      next.child.kill("SIGTERM");
      assert.equal((await next.exited).code, 0, next.stderr());
      assert.equal(sendLines(home).length, 2, "recorded once, not again at the next stop");
    },
  );
});
