// Issue #16 item 4 (local part), through the real CLI over stdio: a frame over 10 MiB gets an error answer
// and the session goes on; a client that stops reading stdout makes the server stop reading requests (they
// wait in the pipe, not in the server's memory), and every request is answered once the client reads again.
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { BoundedStdioTransport } from "../../src/cli/bounded-stdio.js";
import { buildScenario, type Scenario } from "../helpers/mcp-scenario.js";
import { sourceCli } from "../helpers/stdio-session.js";
import { waitUntil } from "../helpers/wait.js";

const SLOW = { timeout: 240_000 };

let scenario: Scenario;
let home: string;

before(() => {
  scenario = buildScenario();
  home = mkdtempSync(join(tmpdir(), "bounded-stdio-"));
});
after(() => {
  scenario?.cleanup();
  rmSync(home, { recursive: true, force: true });
});

interface Session {
  child: ChildProcessWithoutNullStreams;
  /** Answers by id, as they arrive (only while stdout is being read). */
  answers: Map<unknown, Record<string, unknown>>;
  stderr: () => string;
  write: (message: unknown) => boolean;
  exited: Promise<number | null>;
}

function start(): Session {
  const cli = sourceCli(["--db", scenario.chatDb, "--contacts-dir", scenario.contactsRoot, "--read-only"]);
  const child = spawn(cli.command, cli.args, {
    env: { ...process.env, HOME: home, MAC_MESSAGES_MCP_HOME: join(home, "state") },
  });
  const answers = new Map<unknown, Record<string, unknown>>();
  let buffered = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      if (line.trim() === "") continue;
      const message = JSON.parse(line) as Record<string, unknown>;
      if ("id" in message) answers.set(message.id, message);
    }
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const write = (message: unknown) => child.stdin.write(`${JSON.stringify(message)}\n`);
  write({
    jsonrpc: "2.0",
    id: "init",
    method: "initialize",
    params: {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "bounded-stdio", version: "1" },
    },
  });
  write({ jsonrpc: "2.0", method: "notifications/initialized" });
  return { child, answers, stderr: () => stderr, write, exited };
}

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) * 1024 : 0;
}

describe("stdio limits", () => {
  test("a frame over 10 MiB is answered with an error and the session goes on", SLOW, async () => {
    const session = start();
    try {
      await waitUntil(() => session.answers.has("init"), "the initialize answer", 120_000);
      const huge = {
        jsonrpc: "2.0",
        id: 7,
        method: "tools/call",
        params: { name: "search_messages", arguments: { query: "x".repeat(11 * 1024 * 1024) } },
      };
      session.write(huge);
      session.write({ jsonrpc: "2.0", id: 8, method: "tools/list" });
      await waitUntil(() => session.answers.has(8), "the answer after the oversized frame", 120_000);
      const refused = session.answers.get(7);
      assert.ok(refused, "the oversized request got an answer with its own id");
      assert.equal((refused.error as { code: number }).code, -32600);
      assert.match(
        String((refused.error as { message: string }).message),
        /too large: \d+ bytes; the limit is 10 MiB/,
      );
      assert.ok(Array.isArray((session.answers.get(8)?.result as { tools?: unknown[] } | undefined)?.tools));
      assert.match(session.stderr(), /skipped a message of \d+ bytes/);
      assert.equal(session.child.exitCode, null, "still serving");
    } finally {
      session.child.stdin.end();
      await session.exited;
    }
  });

  test(
    "a client that does not read stdout: the server stops reading, stays small, answers everything later",
    SLOW,
    async () => {
      const session = start();
      try {
        const pid = session.child.pid as number;
        await waitUntil(() => session.answers.has("init"), "the initialize answer", 120_000);
        session.child.stdout.pause(); // from here on the client reads nothing
        const baseline = rssBytes(pid);
        // Large answers (the tool list) and many small ones (ping): enough to fill any pipe many times over.
        const count = 100_000;
        for (let id = 1; id <= count; id++) {
          session.write({ jsonrpc: "2.0", id, method: id % 100 === 0 ? "tools/list" : "ping" });
        }
        // The server reads until its answers fill the pipe and its small queue, then stops: our side keeps the
        // rest. Wait until it has stopped taking more (no progress for a while), whatever the machine's speed.
        let last = -1;
        let still = 0;
        await waitUntil(
          async () => {
            const now = session.child.stdin.writableLength;
            still = now === last ? still + 1 : 0;
            last = now;
            await sleep(250);
            return still >= 8 || now === 0;
          },
          "the server to stop reading",
          120_000,
        );
        const unread = session.child.stdin.writableLength;
        const peak = rssBytes(pid);
        assert.ok(unread > 0, "requests wait on the client's side: the server stopped reading them");
        assert.ok(
          peak - baseline < 64 * 1024 * 1024,
          `server memory grew ${((peak - baseline) / 1024 / 1024).toFixed(1)} MB while the client did not read`,
        );
        console.log(
          `back-pressure: ${count} requests sent, ${unread} bytes left unread in the pipe, server RSS ` +
            `+${((peak - baseline) / 1024 / 1024).toFixed(1)} MB while the client did not read`,
        );
        // The client reads again: every request gets its answer, none lost.
        session.child.stdout.resume();
        await waitUntil(() => session.answers.size >= count + 1, `all ${count} answers`, 180_000);
        for (let id = 1; id <= count; id++) assert.ok(session.answers.get(id)?.result, `answer ${id}`);
      } finally {
        session.child.stdout.resume();
        session.child.stdin.end();
        await session.exited;
      }
    },
  );
});

test("the transport says when a tools/call's answer has been written, and for no other answer", async () => {
  // The launcher writes its code cache again after the first (src/cli/code-cache.ts); the streams stand for
  // stdin and stdout, as the options allow.
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let written = "";
  stdout.on("data", (chunk: Buffer) => {
    written += chunk.toString("utf8");
  });
  let told = 0;
  const transport = new BoundedStdioTransport({
    stdin,
    stdout,
    toolCallAnswered: () => {
      told++;
    },
  });
  const received: JSONRPCMessage[] = [];
  transport.onmessage = (message) => received.push(message);
  await transport.start();
  for (const [id, method] of [
    [1, "tools/list"],
    [2, "tools/call"],
    [3, "tools/call"],
  ] as const) {
    stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params: {} })}\n`);
  }
  await waitUntil(() => received.length === 3, "the three requests");
  await transport.send({ jsonrpc: "2.0", id: 1, result: { tools: [] } });
  assert.equal(told, 0, "not for tools/list");
  await transport.send({ jsonrpc: "2.0", id: 2, result: { content: [] } });
  assert.equal(told, 1, "once the tools/call's answer is sent");
  await transport.send({ jsonrpc: "2.0", id: 3, error: { code: -32603, message: "failed" } });
  assert.equal(told, 2, "an error answer to a tools/call counts too");
  await waitUntil(() => written.split("\n").length === 4, "the three answers on stdout");
  await transport.close();
});
