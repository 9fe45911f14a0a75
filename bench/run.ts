// `npm run bench`: how fast is the server on a decade of history? Generates (or reuses) a demo chat.db with
// 1,000,000 messages, builds the search index, and measures typedstream decoding, tool latencies through the
// real MCP server, the naive scan (baseline), the sqlite3 CLI scan (floor), peak RSS, start-up time and remote
// /mcp throughput. Writes bench/results/latest.json and prints a Markdown table.
//
//   npm run bench -- [--messages N] [--skip-generate] [--regenerate] [--reps N]
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, freemem, totalmem } from "node:os";
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
import type { WorkerInput, WorkerOutput } from "./mcp-worker.js";
import { modelBudget, modelBudgetTable } from "./model-budget.js";
import { type Stats, stats } from "./stats.js";

const ROOT = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const RESULTS = join(ROOT, "bench", "results");
const HOUR = 3_600_000;

interface Options {
  messages: number;
  skipGenerate?: boolean;
  regenerate?: boolean;
  reps: number;
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
): { blobs: number; blobsPerSec: number; mbPerSec: number; decoded: number } {
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
  for (const b of blobs) if (attributedBodyText(b) !== null) decoded++;
  const seconds = (performance.now() - start) / 1000;
  return {
    blobs: blobs.length,
    blobsPerSec: Math.round(blobs.length / seconds),
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

/** Spawns the real CLI (stdio) and times until `tools/list` answers, like an MCP client would see it. */
async function startupTime(
  entry: "dist" | "tsx",
  chatDb: string,
  contactsRoot: string,
  stateDir: string,
  reps: number,
): Promise<Stats> {
  const samples: number[] = [];
  // What users run (`npx mac-messages-mcp`: the compiled CLI), and the source through tsx for comparison.
  const launcher =
    entry === "dist"
      ? [join(ROOT, "dist", "src", "cli", "main.js")]
      : ["--import", "tsx", join(ROOT, "src", "cli", "main.ts")];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [...launcher, "--db", chatDb, "--contacts-dir", contactsRoot, "--read-only"],
      cwd: ROOT,
      env: { ...process.env, MAC_MESSAGES_MCP_HOME: stateDir } as Record<string, string>,
      stderr: "ignore",
    });
    const client = new Client({ name: "bench-startup", version: "1.0.0" });
    await client.connect(transport);
    await client.listTools();
    samples.push(performance.now() - start);
    await client.close();
  }
  return stats(samples);
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
    .parse(process.argv);
  const options = program.opts<Options>();
  if (!Number.isInteger(options.messages) || options.messages < 200) {
    throw new Error(`--messages must be a whole number of at least 200 (got ${options.messages})`);
  }
  mkdirSync(RESULTS, { recursive: true });
  const started = performance.now();
  const demo = demoData(options);

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
  log("building the CLI (npm run build) …");
  execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
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
  decode: { blobsPerSec: number; mbPerSec: number; blobs: number };
  tools: WorkerOutput["tools"];
  indexSearch: WorkerOutput["indexSearch"];
  scanBaseline: WorkerOutput["scanSearch"];
  sqliteCliFloor: (Stats & { rows: number }) | { skipped: string };
  serverPeakRssMb: number;
  startupMs: Stats;
  startupTsxMs: Stats;
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
  lines.push(
    `| server start-up to tools/list (built CLI, dist/) | ${fmt(r.startupMs.p50)} ms | ${fmt(r.startupMs.p95)} ms | < 500 ms |`,
    `| server start-up to tools/list (source via tsx, for comparison) | ${fmt(r.startupTsxMs.p50)} ms | ${fmt(r.startupTsxMs.p95)} ms | |`,
  );
  lines.push("", "| measurement | value | target |", "| --- | ---: | --- |");
  lines.push(
    `| index build (from scratch) | ${r.index.buildSeconds} s (${r.index.messagesPerSec.toLocaleString("en-US")} msg/s) | < 60 s |`,
  );
  lines.push(
    `| typedstream decode | ${r.decode.blobsPerSec.toLocaleString("en-US")} blobs/s (${r.decode.mbPerSec} MB/s) | > 200k blobs/s |`,
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
