// chat.db under the conditions Messages creates: another process appending in WAL mode while we read, an
// exclusive lock, the file corrupted, removed or replaced at runtime; and osascript hanging. Reads stay
// correct, failures become tool errors in plain words, nothing surfaces as a crash or a stack trace.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import {
  chmodSync,
  closeSync,
  copyFileSync,
  openSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { MessagesDbError, openMessagesStore } from "../../src/messages/index.js";
import { MessageSender } from "../../src/send/index.js";
import { installFakeOsascript } from "../helpers/fake-osascript.js";
import { call, connect } from "../helpers/mcp-scenario.js";
import { buildHostileChatDb, PEER, STACK_TRACE } from "../helpers/security-remote.js";

const CHILD = new URL("../helpers/chatdb-writer-child.ts", import.meta.url).pathname;
const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Starts the writer child; `lines` collects its stdout, `waitFor` resolves when a line appears. */
function startWriter(args: string[]) {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let stderr = "";
  let buffered = "";
  const waiters: { pattern: RegExp; resolve: () => void; reject: (error: Error) => void }[] = [];
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  child.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    lines.push(...parts);
    for (const waiter of [...waiters]) {
      if (parts.some((line) => waiter.pattern.test(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  // A child that dies without printing what a test waits for fails the test instead of hanging it.
  void exited.then((code) => {
    for (const waiter of waiters.splice(0)) waiter.reject(new Error(`writer exited (${code}): ${stderr}`));
  });
  cleanups.push(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  return {
    lines,
    exited,
    stderr: () => stderr,
    waitFor: (pattern: RegExp) =>
      lines.some((line) => pattern.test(line))
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => waiters.push({ pattern, resolve, reject })),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test("a concurrent writer in WAL mode: every read is a consistent page, new rows appear, no SQLITE_BUSY", async () => {
  const db = buildHostileChatDb();
  cleanups.push(db.cleanup);
  const rowsToWrite = 400;
  // The writer waits for a new read every few batches (pace file), so reads overlap writes on a busy machine.
  const paceFile = `${db.chatDb}.reads`;
  const writer = startWriter([
    db.chatDb,
    "append",
    String(rowsToWrite),
    String(db.chatRowid),
    String(db.handleRowid),
    paceFile,
  ]);
  await writer.waitFor(/^rows /);
  const store = openMessagesStore(db.chatDb);
  cleanups.push(() => store.close());
  const baseline = 6; // LITERAL_TEXTS
  let reads = 0;
  let lastMax = 0;
  let lastLive = 0;
  let done = false;
  void writer.exited.then(() => {
    done = true;
  });
  const deadline = Date.now() + 60_000;
  while (!done && Date.now() < deadline) {
    const max = store.maxRowid();
    assert.ok(max >= lastMax, "rows never disappear");
    lastMax = max;
    const page = store.getMessages({ limit: 50 });
    for (let i = 1; i < page.length; i++)
      assert.ok(page[i - 1]!.rowid > page[i]!.rowid, "newest first, no duplicates");
    for (const message of page) {
      // Message and chat_message_join are written in one transaction: never one without the other.
      assert.equal(message.chatRowid, db.chatRowid, `message ${message.rowid} seen without its chat`);
    }
    const live = store.searchMessages({ text: "live message", mode: "substring", limit: 5000 });
    assert.ok(live.length >= lastLive, "search results only grow");
    // The writer numbers its rows in insertion order, so a consistent snapshot holds exactly 0..n-1.
    const numbers = live
      .map((m) => Number(/live message (\d+)/.exec(m.text ?? "")?.[1]))
      .sort((a, b) => a - b);
    assert.deepEqual(
      numbers,
      numbers.map((_, index) => index),
      "a snapshot is a prefix of the writes",
    );
    lastLive = live.length;
    reads++;
    writeFileSync(paceFile, String(reads));
    await tick();
  }
  assert.equal(await writer.exited, 0, writer.stderr());
  assert.ok(reads >= 10, `only ${reads} reads overlapped the writer`);
  assert.equal(
    store.searchMessages({ text: "live message", mode: "substring", limit: 5000 }).length,
    rowsToWrite,
  );
  assert.equal(store.getMessages({ limit: 5000 }).length, baseline + rowsToWrite);
});

test("a long write transaction in another process: WAL reads go on and never see uncommitted rows", async () => {
  const db = buildHostileChatDb();
  cleanups.push(db.cleanup);
  const connected = await connect({ chatDb: db.chatDb });
  cleanups.push(() => connected.close());
  const writer = startWriter([db.chatDb, "hold", "1500", "1", String(db.handleRowid)]);
  await writer.waitFor(/^holding$/);
  const during = await call(connected.client, "search_messages", { query: "sale", mode: "substring" });
  assert.equal(during.result.isError, undefined, during.text);
  assert.equal(during.data.messages.length, 2);
  const uncommitted = await call(connected.client, "search_messages", {
    query: "uncommitted",
    mode: "substring",
  });
  assert.equal(uncommitted.data.messages.length, 0);
  assert.equal(await writer.exited, 0, writer.stderr());
});

test("chat.db locked exclusively by another process: opening it says so in plain words", async () => {
  const db = buildHostileChatDb();
  cleanups.push(db.cleanup);
  const writer = startWriter([db.chatDb, "lock", "4500"]);
  await writer.waitFor(/^locked$/);
  assert.throws(
    () => openMessagesStore(db.chatDb),
    (error: unknown) =>
      error instanceof MessagesDbError &&
      /locked by another process/.test(error.message) &&
      !STACK_TRACE.test(error.message),
  );
  assert.equal(await writer.exited, 0, writer.stderr());
  const store = openMessagesStore(db.chatDb);
  try {
    assert.equal(store.searchMessages({ text: "sale", mode: "substring", limit: 10 }).length, 2);
  } finally {
    store.close();
  }
});

test("chat.db corrupted in place at runtime: no stack traces; reopening names the problem", async () => {
  const db = buildHostileChatDb();
  cleanups.push(db.cleanup);
  const connected = await connect({ chatDb: db.chatDb });
  cleanups.push(() => connected.close());
  assert.equal((await call(connected.client, "list_chats", {})).result.isError, undefined);
  // Same inode, new bytes (a restore gone wrong, a disk error). The open connection may still answer
  // from pages it has cached (WAL mode validates its cache through the -shm index, not the file), or
  // fail: either way the caller gets a result or a plain error, never an exception.
  const fd = openSync(db.chatDb, "r+");
  writeSync(fd, Buffer.alloc(4096, 0x41), 0, 4096, 0);
  closeSync(fd);
  for (const [tool, args] of [
    ["search_messages", { query: "sale" }],
    ["get_recent_messages", { hours: 24 }],
    ["list_chats", {}],
  ] as const) {
    const answer = await call(connected.client, tool, args);
    assert.doesNotMatch(answer.text, STACK_TRACE, `${tool}: ${answer.text}`);
  }
  assert.throws(
    () => openMessagesStore(db.chatDb),
    (error: unknown) => error instanceof MessagesDbError && error.code === "not_messages_db",
  );
  truncateSync(db.chatDb, 0);
  assert.throws(
    () => openMessagesStore(db.chatDb),
    (error: unknown) => error instanceof MessagesDbError && /not a Messages database/.test(error.message),
  );
  const tools = await connected.client.listTools();
  assert.ok(tools.tools.length > 3, "the server itself still answers");
});

test("chat.db removed or replaced at runtime: the open store keeps its file; reopening says what happened", async () => {
  const db = buildHostileChatDb();
  cleanups.push(db.cleanup);
  const store = openMessagesStore(db.chatDb);
  cleanups.push(() => store.close());
  const before = store.getMessages({ limit: 100 }).length;
  // POSIX: the open descriptor keeps the deleted file alive, so the running server answers from it.
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${db.chatDb}${suffix}`, { force: true });
  assert.equal(store.getMessages({ limit: 100 }).length, before);
  // A restart (or any reopen) finds nothing and says so in plain words.
  assert.throws(
    () => openMessagesStore(db.chatDb),
    (error: unknown) =>
      error instanceof MessagesDbError &&
      error.code === "not_found" &&
      /No Messages database at/.test(error.message),
  );
  // Replaced by another file: the open store still reads the one it opened; a reopen reads the new one.
  const other = buildHostileChatDb(3);
  cleanups.push(other.cleanup);
  copyFileSync(other.chatDb, join(db.dir, "replacement.db"));
  renameSync(join(db.dir, "replacement.db"), db.chatDb);
  assert.equal(store.getMessages({ limit: 100 }).length, before);
  const reopened = openMessagesStore(db.chatDb);
  try {
    assert.equal(reopened.getMessages({ limit: 100 }).length, before + 3);
  } finally {
    reopened.close();
  }
});

test("chat.db made unreadable: reopening gives the Full Disk Access hint", {
  skip: process.getuid?.() === 0 ? "running as root, which file permissions do not restrict" : false,
}, () => {
  const db = buildHostileChatDb();
  cleanups.push(db.cleanup);
  chmodSync(db.chatDb, 0o000);
  assert.throws(
    () => openMessagesStore(db.chatDb),
    (error: unknown) => error instanceof MessagesDbError && error.code === "permission_denied",
  );
});

test("osascript hanging: send_message is stopped at the timeout and reported as a tool error", async () => {
  const db = buildHostileChatDb();
  cleanups.push(db.cleanup);
  const fake = await installFakeOsascript({ sleepMs: 60_000 });
  cleanups.push(() => fake.cleanup());
  const connected = await connect({
    chatDb: db.chatDb,
    sender: new MessageSender({ env: fake.env, timeoutMs: 300 }),
  });
  cleanups.push(() => connected.close());
  const hung = await call(connected.client, "send_message", { recipient: PEER, text: "hello" });
  assert.equal(hung.result.isError, true, hung.text);
  assert.match(hung.text, /did not finish within 300 ms/);
  assert.doesNotMatch(hung.text, STACK_TRACE);
});
