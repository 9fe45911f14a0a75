// `npm run bench`: how fast is the server on a decade of history? Generates (or reuses) a demo chat.db with
// 1,000,000 messages, builds the search index, and measures typedstream decoding, tool latencies through the
// real MCP server, the naive scan (baseline), the sqlite3 CLI scan (floor), peak RSS, start-up time and remote
// /mcp throughput. Writes bench/results/latest.json and prints a Markdown table.
//
//   npm run bench -- [--messages N] [--skip-generate] [--regenerate] [--reps N]
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import BetterSqlite3 from "better-sqlite3";
import { Command } from "commander";
import { generateDemo } from "../src/demo/generate.js";
import { buildIndex, progressToStderr } from "../src/messages/indexed-reader.js";
import { searchIndexPath } from "../src/messages/search-index.js";
import { openMessagesStore } from "../src/messages/store.js";
import { attributedBodyText } from "../src/messages/typedstream.js";
import { warmCodeCache } from "./code-cache-warm.js";
import type { WorkerInput, WorkerOutput } from "./mcp-worker.js";
import { modelBudget, modelBudgetTable } from "./model-budget.js";
import { peersTable, runPeers } from "./peers.js";
import { type Stats, stats } from "./stats.js";
import { type SessionOutput, stdioSessions } from "./stdio-session.js";

const ROOT = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const RESULTS = join(ROOT, "bench", "results");
const HOUR = 3_600_000;

interface Options {
  messages: number;
  skipGenerate?: boolean;
  regenerate?: boolean;
  reps: number;
  /** Only the stdio sessions (pages, build), start-up and decode: skips the scan baseline and remote load. */
  quick?: boolean;
  /** Only the peers, side by side with this project's reader (bench/peers.ts). */
  peers?: boolean;
  /** A built checkout of anipotts/imessage-mcp, compared over stdio with --peers. */
  imessageMcp?: string;
  /** Another Node binary (e.g. Node 22) for an extra pair of start-up rows. */
  startupNode?: string;
}

/** The conversation the page measurements read: the longest chat and its (first) handle. */
interface Conversation {
  chatRowid: number;
  chat: string;
  handleRowid: number;
  contact: string;
  /** The most active other handle (not in the chat): pages no earlier call of the session has read. */
  otherContact: string;
  messages: number;
  windowStart: string;
  windowEnd: string;
}

function longestConversation(chatDb: string): Conversation {
  const db = new BetterSqlite3(chatDb, { readonly: true });
  try {
    const chat = db
      .prepare(
        `SELECT c.ROWID AS rowid, c.chat_identifier AS identifier, COUNT(*) AS n FROM chat c
         JOIN chat_message_join j ON j.chat_id = c.ROWID WHERE c.style = 45 GROUP BY c.ROWID ORDER BY n DESC LIMIT 1`,
      )
      .get() as { rowid: number; identifier: string; n: number };
    const handle = db
      .prepare(
        "SELECT h.ROWID AS rowid, h.id AS id FROM chat_handle_join x JOIN handle h ON h.ROWID = x.handle_id WHERE x.chat_id = ? LIMIT 1",
      )
      .get(chat.rowid) as { rowid: number; id: string };
    const other = db
      .prepare(
        `SELECT h.id AS id FROM handle h WHERE h.ROWID NOT IN (SELECT handle_id FROM chat_handle_join WHERE chat_id = ?)
         ORDER BY (SELECT COUNT(*) FROM message m WHERE m.handle_id = h.ROWID) DESC LIMIT 1`,
      )
      .get(chat.rowid) as { id: string };
    // A week in the middle of the chat's history: a date-bounded page far from the newest rows.
    const middle = db
      .prepare(
        "SELECT message_date AS d FROM chat_message_join WHERE chat_id = ? ORDER BY message_date LIMIT 1 OFFSET ?",
      )
      .get(chat.rowid, Math.floor(chat.n / 2)) as { d: number };
    const start = new Date(Date.UTC(2001, 0, 1) + middle.d / 1e6);
    const day = (d: Date) => d.toISOString().slice(0, 10);
    return {
      chatRowid: chat.rowid,
      chat: chat.identifier,
      handleRowid: handle.rowid,
      contact: handle.id,
      otherContact: other.id,
      messages: chat.n,
      windowStart: day(start),
      windowEnd: day(new Date(start.getTime() + 7 * 86_400_000)),
    };
  } finally {
    db.close();
  }
}

/**
 * The SQL floor of a page: the cheapest statement that reads the same 50 rows through the same Apple index
 * (what any implementation must at least do), timed in this process on a warm cache.
 */
function pageFloors(chatDb: string, conversation: Conversation, reps: number): Record<string, Stats> {
  const db = new BetterSqlite3(chatDb, { readonly: true });
  const time = (sql: string, ...params: unknown[]) => {
    const stmt = db.prepare(sql);
    stmt.all(...params);
    const samples: number[] = [];
    for (let i = 0; i < reps; i++) {
      const start = performance.now();
      stmt.all(...params);
      samples.push(performance.now() - start);
    }
    return stats(samples);
  };
  try {
    const columns = "m.ROWID, m.date, m.text, m.attributedBody, m.handle_id, m.is_from_me";
    return {
      contact: time(
        `SELECT ${columns} FROM message m WHERE m.handle_id = ? ORDER BY m.date DESC LIMIT 50`,
        conversation.handleRowid,
      ),
      chat: time(
        `SELECT ${columns} FROM chat_message_join j JOIN message m ON m.ROWID = j.message_id
         WHERE j.chat_id = ? ORDER BY j.message_date DESC LIMIT 50`,
        conversation.chatRowid,
      ),
    };
  } finally {
    db.close();
  }
}

/** Query plans of the store's page reads on this database (printed: the proof a page is an index walk). */
function pagePlans(chatDb: string, conversation: Conversation): string[] {
  const store = openMessagesStore(chatDb);
  try {
    const week = {
      since: new Date(`${conversation.windowStart}T00:00:00Z`),
      until: new Date(`${conversation.windowEnd}T00:00:00Z`),
    };
    const plans = store.queryPlans((s) => {
      s.getMessages({ handleRowids: [conversation.handleRowid], limit: 50 });
      s.getMessages({ chatRowids: [conversation.chatRowid], limit: 50 });
      s.getMessages({ chatRowids: [conversation.chatRowid], ...week, limit: 50 });
    });
    return plans
      .filter((p) => /ORDER BY/.test(p.sql) && !/message_date = 0/.test(p.sql))
      .map((p) => p.plan.filter((line) => !/SUBQUERY|cmj/.test(line)).join("; "));
  } finally {
    store.close();
  }
}

interface PageRun {
  messages: number;
  conversation: Conversation;
  floors: Record<string, Stats>;
  session: SessionOutput;
  plans: string[];
}

/**
 * The page-read sessions on each size of demo, run side by side (stdioSessions: every call takes turns
 * between the servers, so the ratio between sizes is not a change of load between two runs); the last size
 * also measures the index build.
 */
async function pageRuns(options: Options, sizes: number[]): Promise<PageRun[]> {
  const runs = sizes.map((messages) => {
    const demo = demoData({ ...options, messages });
    const conversation = longestConversation(demo.chatDb);
    const stateDir = join(RESULTS, `stdio-state-${messages}`);
    rmSync(stateDir, { recursive: true, force: true });
    return { messages, demo, conversation, stateDir };
  });
  // The pages a session reads for the first time come from the OS's file cache or from the disk, whichever
  // holds them: a run right after another's index build (which reads the whole file) found them cached, the
  // first run of a set often did not, and its older pages took 2-2.5 ms more each (docs/performance.md). The
  // bench measures the server, so every run starts with the whole file cached.
  for (const run of runs) readThrough(run.demo.chatDb);
  log(
    `stdio sessions side by side on ${runs
      .map((r) => `${r.messages.toLocaleString("en-US")} messages (chat of ${r.conversation.messages})`)
      .join(" and ")} …`,
  );
  try {
    const sessions = await stdioSessions(
      runs.map((run, i) => ({
        entry: join(ROOT, "dist", "src", "cli", "main.js"),
        cwd: ROOT,
        chatDb: run.demo.chatDb,
        contactsRoot: run.demo.contactsRoot,
        stateDir: run.stateDir,
        contact: run.conversation.contact,
        otherContact: run.conversation.otherContact,
        chat: run.conversation.chat,
        windowStart: run.conversation.windowStart,
        windowEnd: run.conversation.windowEnd,
        depth: 20,
        searchWord: "dinner",
        reps: options.reps,
        build: i === runs.length - 1,
      })),
    );
    return runs.map((run, i) => ({
      messages: run.messages,
      conversation: run.conversation,
      floors: pageFloors(run.demo.chatDb, run.conversation, options.reps),
      session: sessions[i] as SessionOutput,
      plans: pagePlans(run.demo.chatDb, run.conversation),
    }));
  } finally {
    for (const run of runs) rmSync(run.stateDir, { recursive: true, force: true });
  }
}

function pageTable(small: PageRun, large: PageRun): string {
  const lines = [
    `Page reads over stdio (built CLI): the longest chat, ${small.conversation.messages.toLocaleString("en-US")} messages at ${small.messages.toLocaleString("en-US")}, ${large.conversation.messages.toLocaleString("en-US")} at ${large.messages.toLocaleString("en-US")}`,
    "",
    `| call | p50 at ${small.messages / 1000}k | p50 at ${large.messages / 1_000_000}M | 1M ÷ 10k (goal ≤ 2) | 1M × SQL floor | server CPU per call at ${small.messages / 1000}k / ${large.messages / 1_000_000}M, p50 | goal |`,
    "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const [name, at] of Object.entries(large.session.calls)) {
    const before = small.session.calls[name];
    const floor = name.startsWith("contact")
      ? large.floors.contact
      : name.startsWith("chat")
        ? large.floors.chat
        : undefined;
    lines.push(
      `| ${name} | ${before ? `${fmt(before.p50)} ms` : "—"} | ${fmt(at.p50)} ms (p95 ${fmt(at.p95)}) | ${before ? (at.p50 / before.p50).toFixed(2) : "—"} | ${floor ? `${(at.p50 / floor.p50).toFixed(0)}× (floor ${fmt(floor.p50)} ms)` : ""} | ${before?.cpu ? fmt(before.cpu.p50) : "—"} / ${at.cpu ? `${fmt(at.cpu.p50)} ms` : "—"} | < 5 ms |`,
    );
  }
  lines.push("", "Query plans of those reads (Apple's indexes; no `USE TEMP B-TREE FOR ORDER BY`):");
  for (const plan of new Set(large.plans)) lines.push(`- ${plan}`);
  const build = large.session.build;
  if (build) {
    lines.push(
      "",
      "Index build in the worker thread, started by the first search on a fresh state folder:",
      "",
      "| measurement | value | goal |",
      "| --- | ---: | --- |",
      `| first search (answered while building) | ${build.firstSearchMs} ms | < 1 s |`,
      `| searches during the build, p50 / p95 | ${fmt(build.searchDuring.p50)} / ${fmt(build.searchDuring.p95)} ms (${build.searchDuring.n}) | < 1 s |`,
      `| contact page during the build ÷ before it | ${build.pageRatio}× (p50 ${fmt(build.pageDuring.p50)} ms, p95 ${fmt(build.pageDuring.p95)} ms) | ≤ 2× |`,
      `| build, first search to complete answers | ${build.seconds} s | < 20 s |`,
      `| search after the build, p50 | ${fmt(build.searchAfter.p50)} ms | |`,
      `| server peak RSS (VmHWM), whole session incl. build | ${large.session.peakRssMb ?? "n/a"} MB | < 200 MB |`,
    );
  }
  return lines.join("\n");
}

/** Reads a file (and its WAL) through once, so that the OS holds its pages; the bytes are not kept. */
function readThrough(path: string): void {
  const buffer = Buffer.allocUnsafe(1 << 20);
  for (const file of [path, `${path}-wal`]) {
    if (!existsSync(file)) continue;
    const fd = openSync(file, "r");
    try {
      while (readSync(fd, buffer, 0, buffer.length, null) > 0);
    } finally {
      closeSync(fd);
    }
  }
}

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

function machine() {
  const cpuModel = cpus()[0]?.model ?? "unknown";
  return {
    cpuModel,
    cores: cpus().length,
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    freeMemoryGb: Math.round((freemem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    sqlite: (new BetterSqlite3(":memory:").prepare("SELECT sqlite_version() AS v").get() as { v: string }).v,
  };
}

/** The cached demo, or a new one. The demo's "now" is kept so "last 24 h" means the demo's last day. */
function demoData(options: Options): {
  dir: string;
  chatDb: string;
  contactsRoot: string;
  now: number;
  generateMs: number | null;
} {
  const dir = join(RESULTS, `demo-${options.messages}`);
  const marker = join(dir, "bench-demo.json");
  if (options.regenerate) rmSync(dir, { recursive: true, force: true });
  if (existsSync(marker)) {
    const cached = JSON.parse(readFileSync(marker, "utf8")) as { now: number };
    log(`reusing the cached demo in ${dir}`);
    return {
      dir,
      chatDb: join(dir, "Messages", "chat.db"),
      contactsRoot: join(dir, "AddressBook"),
      now: cached.now,
      generateMs: null,
    };
  }
  if (options.skipGenerate) throw new Error(`--skip-generate: no cached demo in ${dir}; run without it once`);
  rmSync(dir, { recursive: true, force: true });
  const now = Date.now();
  log(`generating ${options.messages.toLocaleString("en-US")} messages in ${dir} …`);
  const start = performance.now();
  const paths = generateDemo({
    dir,
    messages: options.messages,
    now: new Date(now),
    onProgress: (written, total) => log(`  generated ${written}/${total}`),
    progressEvery: 200_000,
  });
  const generateMs = performance.now() - start;
  writeFileSync(marker, JSON.stringify({ now, messages: options.messages }));
  return { dir, chatDb: paths.chatDb, contactsRoot: paths.contactsRoot, now, generateMs };
}

/** Typedstream decoding over real rows: blobs are loaded first so only decoding is timed. */
function decodeThroughput(
  chatDb: string,
  limit: number,
): { blobs: number; blobsPerSec: number; blobsPerCpuSec: number; mbPerSec: number; decoded: number } {
  const db = new BetterSqlite3(chatDb, { readonly: true });
  const blobs = (
    db.prepare("SELECT attributedBody FROM message WHERE attributedBody IS NOT NULL LIMIT ?").all(limit) as {
      attributedBody: Buffer;
    }[]
  ).map((r) => r.attributedBody);
  db.close();
  let bytes = 0;
  for (const b of blobs) bytes += b.length;
  for (const b of blobs.slice(0, 5000)) attributedBodyText(b); // warm the JIT
  let decoded = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  for (const b of blobs) if (attributedBodyText(b) !== null) decoded++;
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  return {
    blobs: blobs.length,
    blobsPerSec: Math.round(blobs.length / seconds),
    // On a shared machine wall time measures the neighbours; CPU time measures the decoder.
    blobsPerCpuSec: Math.round(blobs.length / ((cpu.user + cpu.system) / 1e6)),
    mbPerSec: Math.round((bytes / 1024 ** 2 / seconds) * 10) / 10,
    decoded,
  };
}

/** A word that occurs in only a few messages, found through the built index (not hard-coded to the demo). */
function pickRareWord(indexPath: string): string {
  const db = new BetterSqlite3(indexPath, { readonly: true });
  try {
    const words = db
      .prepare(
        "SELECT word FROM vocab WHERE length(word) BETWEEN 6 AND 12 AND word GLOB '[a-z]*' ORDER BY word",
      )
      .all() as { word: string }[];
    const count = db.prepare(
      "SELECT COUNT(*) AS n FROM (SELECT 1 FROM doc_fts WHERE doc_fts MATCH ? LIMIT 50)",
    );
    for (const { word } of words) {
      const { n } = count.get(`"${word}"`) as { n: number };
      if (n >= 1 && n <= 20) return word;
    }
  } finally {
    db.close();
  }
  return "xylophone";
}

/** The floor: the sqlite3 CLI scanning `message.text` with LIKE (it cannot see attributedBody-only text). */
function sqliteCliFloor(
  chatDb: string,
  word: string,
  reps: number,
): (Stats & { rows: number }) | { skipped: string } {
  const probe = spawnSync("sqlite3", ["-version"], { encoding: "utf8" });
  if (probe.status !== 0) return { skipped: "sqlite3 CLI not installed" };
  const sql = `SELECT COUNT(*) FROM message WHERE text LIKE '%${word.replaceAll("'", "''")}%';`;
  const samples: number[] = [];
  let rows = 0;
  for (let i = 0; i <= reps; i++) {
    const start = performance.now();
    const out = spawnSync("sqlite3", ["-readonly", chatDb, sql], { encoding: "utf8" });
    const ms = performance.now() - start;
    if (out.status !== 0) return { skipped: `sqlite3 failed: ${out.stderr.trim()}` };
    rows = Number(out.stdout.trim());
    if (i > 0) samples.push(ms); // the first run warms the page cache
  }
  return { ...stats(samples), rows };
}

/** CPU time (user + system) a process has used so far, from /proc; null where there is no /proc. */
function cpuMsOf(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface StartupResult {
  /** Wall time from spawn until tools/list answered, and the server's CPU time by then. */
  server: Stats;
  serverCpu: Stats | null;
  /** The same for bench/floor-server.mjs: a bare server on the same SDK, measured alternately. */
  floor: Stats;
  floorCpu: Stats | null;
}

/**
 * Spawns the real CLI (stdio) and times until `tools/list` answers, like an MCP client would see it,
 * alternating with the floor server so both see the same machine load.
 */
async function startupTime(
  entry: "dist" | "tsx",
  chatDb: string,
  contactsRoot: string,
  stateDir: string,
  reps: number,
  variant: { node?: string; env?: Record<string, string | undefined> } = {},
): Promise<StartupResult> {
  // What users run (`npx mac-messages-mcp`: the compiled CLI), and the source through tsx for comparison.
  const launcher =
    entry === "dist"
      ? [join(ROOT, "dist", "src", "cli", "main.js")]
      : ["--import", "tsx", join(ROOT, "src", "cli", "main.ts")];
  const once = async (args: string[]) => {
    const start = performance.now();
    const env: Record<string, string | undefined> = {
      ...process.env,
      ...variant.env,
      MAC_MESSAGES_MCP_HOME: stateDir,
    };
    for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
    const transport = new StdioClientTransport({
      command: variant.node ?? process.execPath,
      args,
      cwd: ROOT,
      env: env as Record<string, string>,
      stderr: "ignore",
    });
    const client = new Client({ name: "bench-startup", version: "1.0.0" });
    await client.connect(transport);
    await client.listTools();
    const ms = performance.now() - start;
    const cpu = cpuMsOf(transport.pid ?? undefined);
    await client.close();
    return { ms, cpu };
  };
  const server: { ms: number; cpu: number | null }[] = [];
  const floor: { ms: number; cpu: number | null }[] = [];
  if (entry === "dist") {
    await warmCodeCache({
      command: variant.node ?? process.execPath,
      args: [...launcher, "--db", chatDb, "--contacts-dir", contactsRoot, "--read-only"],
      cwd: ROOT,
      env: { ...(process.env as Record<string, string>), MAC_MESSAGES_MCP_HOME: stateDir },
    });
  }
  for (let i = 0; i < reps; i++) {
    server.push(await once([...launcher, "--db", chatDb, "--contacts-dir", contactsRoot, "--read-only"]));
    floor.push(await once([join(ROOT, "bench", "floor-server.mjs")]));
  }
  const cpuStats = (runs: { cpu: number | null }[]) =>
    runs.every((r) => r.cpu !== null) ? stats(runs.map((r) => r.cpu as number)) : null;
  return {
    server: stats(server.map((r) => r.ms)),
    serverCpu: cpuStats(server),
    floor: stats(floor.map((r) => r.ms)),
    floorCpu: cpuStats(floor),
  };
}

/**
 * Start-up again where this machine differs from a user's: without NODE_EXTRA_CA_CERTS when it is set (Node 20
 * parses every certificate it names at each process start, before any JavaScript runs), and on another Node
 * (`--startup-node`, e.g. Node 22) when one is given. Server and floor alike.
 */
async function startupVariants(
  options: Options,
  chatDb: string,
  contactsRoot: string,
  stateDir: string,
): Promise<{ label: string; result: StartupResult }[]> {
  const variants: { label: string; result: StartupResult }[] = [];
  if (process.env.NODE_EXTRA_CA_CERTS) {
    log("server start-up without NODE_EXTRA_CA_CERTS …");
    variants.push({
      label: "built CLI, NODE_EXTRA_CA_CERTS unset",
      result: await startupTime("dist", chatDb, contactsRoot, stateDir, 15, {
        env: { NODE_EXTRA_CA_CERTS: undefined },
      }),
    });
  }
  if (options.startupNode) {
    const version = execFileSync(options.startupNode, ["--version"], { encoding: "utf8" }).trim();
    log(`server start-up on Node ${version} …`);
    variants.push({
      label: `built CLI on Node ${version}`,
      result: await startupTime("dist", chatDb, contactsRoot, stateDir, 15, { node: options.startupNode }),
    });
  }
  return variants;
}

/** Markdown rows of a start-up measurement: wall and CPU time, each as a ratio to the floor. */
function startupRows(label: string, r: StartupResult): string[] {
  const ratio = (a: Stats, b: Stats) => `${(a.p50 / b.p50).toFixed(2)}×`;
  const rows = [
    `| ${label}: start-up to tools/list, wall p50 / p95 | ${fmt(r.server.p50)} / ${fmt(r.server.p95)} ms (floor ${fmt(r.floor.p50)} ms: ${ratio(r.server, r.floor)}) | < 300 ms p50 |`,
  ];
  if (r.serverCpu && r.floorCpu) {
    rows.push(
      `| ${label}: server CPU time until tools/list answered, p50 | ${fmt(r.serverCpu.p50)} ms (floor ${fmt(r.floorCpu.p50)} ms: ${ratio(r.serverCpu, r.floorCpu)}) | |`,
    );
  }
  return rows;
}

function runWorker(input: WorkerInput): Promise<WorkerOutput> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(ROOT, "bench", "mcp-worker.ts"), JSON.stringify(input)],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`bench worker exited with ${code}`));
      try {
        resolvePromise(JSON.parse(out.trim().split("\n").at(-1) ?? "") as WorkerOutput);
      } catch (error) {
        reject(error);
      }
    });
  });
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

async function main(): Promise<void> {
  const program = new Command()
    .option("--messages <n>", "messages in the generated chat.db", (v) => Number(v), 1_000_000)
    .option("--skip-generate", "require the cached demo (fail instead of generating)")
    .option("--regenerate", "discard the cached demo and generate a new one")
    .option("--reps <n>", "timed repetitions per measurement", (v) => Number(v), 30)
    .option("--quick", "only stdio sessions, start-up and decode (no scan baseline, no remote load)")
    .option("--peers", "only the peers (installed into a cache folder) side by side with this project")
    .option("--startup-node <path>", "with --quick: start-up rows on this Node binary too (e.g. Node 22)")
    .option(
      "--imessage-mcp <folder>",
      "with --peers: a built checkout of anipotts/imessage-mcp to compare over stdio",
    )
    .parse(process.argv);
  const options = program.opts<Options>();
  if (!Number.isInteger(options.messages) || options.messages < 200) {
    throw new Error(`--messages must be a whole number of at least 200 (got ${options.messages})`);
  }
  mkdirSync(RESULTS, { recursive: true });
  if (options.peers) {
    const peers = await runPeers({
      root: ROOT,
      results: RESULTS,
      messages: options.messages,
      reps: options.reps,
      imessageMcpDir: options.imessageMcp ? resolve(options.imessageMcp) : undefined,
      log,
    });
    const recorded = { date: new Date().toISOString(), machine: machine(), load: loadavg(), ...peers };
    writeFileSync(join(RESULTS, "latest-peers.json"), `${JSON.stringify(recorded, null, 2)}\n`);
    process.stdout.write(
      `${peersTable(peers)}\n\nLoad average (1/5/15 min): ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" / ")} on ${cpus().length} cores.\n`,
    );
    return;
  }
  const started = performance.now();
  const demo = demoData(options);
  log("building the CLI (npm run build) …");
  execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  const [pagesSmall, pagesLarge] = (await pageRuns(options, [10_000, options.messages])) as [
    PageRun,
    PageRun,
  ];
  process.stdout.write(`${pageTable(pagesSmall, pagesLarge)}\n\n`);
  if (options.quick) {
    log("decoding typedstream blobs …");
    const decode = decodeThroughput(demo.chatDb, 300_000);
    log("server start-up …");
    const startupState = join(RESULTS, "startup-state");
    const startup = await startupTime("dist", demo.chatDb, demo.contactsRoot, startupState, 15);
    const variants = await startupVariants(options, demo.chatDb, demo.contactsRoot, startupState);
    rmSync(startupState, { recursive: true, force: true });
    log("what the model reads (tools/list size) …");
    const budget = await modelBudget();
    const quick = {
      date: new Date().toISOString(),
      machine: machine(),
      load: loadavg(),
      pagesSmall,
      pagesLarge,
      decode,
      startup,
      startupVariants: variants,
      modelBudget: budget,
    };
    writeFileSync(join(RESULTS, "latest-quick.json"), `${JSON.stringify(quick, null, 2)}\n`);
    process.stdout.write(
      `${[
        "| measurement | value | goal |",
        "| --- | ---: | --- |",
        `| typedstream decode, per CPU-second (per wall-second) | ${decode.blobsPerCpuSec.toLocaleString("en-US")} blobs/s (${decode.blobsPerSec.toLocaleString("en-US")}) | > 400k blobs/s |`,
        ...startupRows("built CLI", startup),
        ...variants.flatMap((v) => startupRows(v.label, v.result)),
        `| load average during the run (1/5/15 min) | ${loadavg()
          .map((l) => l.toFixed(1))
          .join(" / ")} | (${cpus().length} cores) |`,
      ].join("\n")}\n\n${modelBudgetTable(budget)}\n`,
    );
    return;
  }

  // Index build from scratch (timed), into a state dir of its own.
  const stateDir = join(RESULTS, `state-${options.messages}`);
  rmSync(stateDir, { recursive: true, force: true });
  const store = openMessagesStore(demo.chatDb);
  const totalMessages = store.maxRowid();
  log("building the search index …");
  const buildStart = performance.now();
  const built = await buildIndex(store, { stateDir, onProgress: progressToStderr((l) => log(`  ${l}`)) });
  const buildMs = performance.now() - buildStart;
  store.close();
  log(`index built in ${(buildMs / 1000).toFixed(1)} s (${built.documents} documents)`);

  log("decoding typedstream blobs …");
  const decode = decodeThroughput(demo.chatDb, 300_000);

  const rareWord = pickRareWord(searchIndexPath(stateDir, demo.chatDb));
  const searches: WorkerInput["searches"] = [
    { label: `rare word "${rareWord}"`, text: rareWord, mode: "substring" },
    { label: 'common word "dinner"', text: "dinner", mode: "substring" },
    { label: 'substring "ecycl"', text: "ecycl", mode: "substring" },
    { label: 'fuzzy "recipie"', text: "recipie", mode: "fuzzy" },
  ];
  const recentHours = Math.ceil((Date.now() - demo.now) / HOUR) + 24;
  log("measuring the MCP server (worker process) …");
  const worker = await runWorker({
    chatDb: demo.chatDb,
    contactsRoot: demo.contactsRoot,
    stateDir,
    remoteStateDir: join(RESULTS, `remote-state-${process.pid}`),
    recentHours,
    contact: "Emma",
    searches,
    reps: options.reps,
    scanReps: 3,
    autocannonSeconds: 10,
  }).finally(() => rmSync(join(RESULTS, `remote-state-${process.pid}`), { recursive: true, force: true }));

  log("sqlite3 CLI floor …");
  const floor = sqliteCliFloor(demo.chatDb, rareWord, 3);
  log("server start-up …");
  const startup = await startupTime("dist", demo.chatDb, demo.contactsRoot, stateDir, 7);
  const startupTsx = await startupTime("tsx", demo.chatDb, demo.contactsRoot, stateDir, 3);

  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    messages: totalMessages,
    generateSeconds: demo.generateMs === null ? null : Math.round(demo.generateMs / 100) / 10,
    index: {
      buildSeconds: Math.round(buildMs / 100) / 10,
      documents: built.documents,
      messagesPerSec: Math.round(totalMessages / (buildMs / 1000)),
    },
    decode,
    tools: worker.tools,
    indexSearch: worker.indexSearch,
    scanBaseline: worker.scanSearch,
    sqliteCliFloor: floor,
    serverPeakRssMb: Math.round(worker.serverPeakRssMb),
    benchPeakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    startupMs: startup,
    startupTsxMs: startupTsx,
    remote: worker.remote,
    modelBudget: await modelBudget(),
    totalSeconds: Math.round((performance.now() - started) / 1000),
  };
  writeFileSync(join(RESULTS, "latest.json"), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${table(result)}\n\n${modelBudgetTable(result.modelBudget)}\n`);
  log(`wrote ${join(RESULTS, "latest.json")}`);
}

function table(r: {
  messages: number;
  machine: ReturnType<typeof machine>;
  index: { buildSeconds: number; documents: number; messagesPerSec: number };
  decode: { blobsPerSec: number; blobsPerCpuSec: number; mbPerSec: number; blobs: number };
  tools: WorkerOutput["tools"];
  indexSearch: WorkerOutput["indexSearch"];
  scanBaseline: WorkerOutput["scanSearch"];
  sqliteCliFloor: (Stats & { rows: number }) | { skipped: string };
  serverPeakRssMb: number;
  startupMs: StartupResult;
  startupTsxMs: StartupResult;
  remote: WorkerOutput["remote"];
}): string {
  const lines = [
    `Benchmark: ${r.messages.toLocaleString("en-US")} messages — ${r.machine.cpuModel}, ${r.machine.cores} cores, ${r.machine.memoryGb} GB, Node ${r.machine.node}, SQLite ${r.machine.sqlite}`,
    "",
    "| measurement | p50 | p95 | target |",
    "| --- | ---: | ---: | --- |",
  ];
  const target = (name: string) =>
    name.startsWith("search_messages") ? "< 50 ms" : name.startsWith("get_recent") ? "< 10 ms" : "";
  for (const [name, s] of Object.entries(r.tools)) {
    lines.push(
      `| MCP tools/call ${name}${s.note ? ` (${s.note})` : ""} | ${fmt(s.p50)} ms | ${fmt(s.p95)} ms | ${target(name)} |`,
    );
  }
  for (const [name, s] of Object.entries(r.indexSearch)) {
    const scan = r.scanBaseline[name];
    lines.push(
      `| searchMessages ${name}, index (${s.hits} hits) | ${fmt(s.p50)} ms | ${fmt(s.p95)} ms | < 50 ms |`,
    );
    if (scan) {
      lines.push(
        `| searchMessages ${name}, naive scan baseline${scan.identical ? ", same answer" : ", DIFFERENT ANSWER"} | ${fmt(scan.p50)} ms | ${fmt(scan.p95)} ms | |`,
      );
    }
  }
  if ("skipped" in r.sqliteCliFloor)
    lines.push(`| sqlite3 CLI LIKE scan (floor) | skipped: ${r.sqliteCliFloor.skipped} | | |`);
  else
    lines.push(
      `| sqlite3 CLI \`LIKE\` scan of message.text (floor) | ${fmt(r.sqliteCliFloor.p50)} ms | ${fmt(r.sqliteCliFloor.p95)} ms | |`,
    );
  lines.push("", "| measurement | value | target |", "| --- | ---: | --- |");
  lines.push(
    ...startupRows("built CLI (dist/)", r.startupMs),
    ...startupRows("source via tsx, for comparison", r.startupTsxMs),
  );
  lines.push(
    `| index build (from scratch) | ${r.index.buildSeconds} s (${r.index.messagesPerSec.toLocaleString("en-US")} msg/s) | < 20 s |`,
  );
  lines.push(
    `| typedstream decode, per CPU-second (per wall-second) | ${r.decode.blobsPerCpuSec.toLocaleString("en-US")} blobs/s (${r.decode.blobsPerSec.toLocaleString("en-US")}, ${r.decode.mbPerSec} MB/s) | > 400k blobs/s |`,
  );
  lines.push(`| server peak RSS (worker, after all tool calls) | ${r.serverPeakRssMb} MB | < 200 MB |`);
  if ("skipped" in r.remote)
    lines.push(`| remote /mcp tools/call throughput | skipped: ${r.remote.skipped} | |`);
  else {
    lines.push(
      `| remote /mcp tools/call get_recent_messages, bearer token, 8 connections | ${Math.round(r.remote.requestsPerSec)} req/s (p50 ${r.remote.latencyP50Ms} ms, p99 ${r.remote.latencyP99Ms} ms, ${r.remote.errors + r.remote.non2xx} failed) | |`,
    );
  }
  return lines.join("\n");
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
