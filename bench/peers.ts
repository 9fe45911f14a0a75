// `npm run bench -- --peers`: the same read calls through this project's reader and through the TypeScript
// peers, on one generated chat.db, printed as ratios measured in the same run. The peers are installed from
// the npm registry into a cache folder outside the checkout (never a dependency of this package), and the
// run is not part of CI. A peer that cannot be installed or run here is named with the reason.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { generateDemo } from "../src/demo/generate.js";
import { buildIndex, IndexedMessagesReader } from "../src/messages/indexed-reader.js";
import { openMessagesStore } from "../src/messages/store.js";
import { type Stats, stats } from "./stats.js";

/** Pinned, so a re-run measures the same code. */
export const PEERS = {
  "@photon-ai/imessage-kit": "3.0.0",
  // anipotts' TypeScript MCP server, as issue #13 measured it (version 1.5).
  "imessage-mcp": "1.5",
} as const;

export function peersCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "mac-messages-mcp", "bench-peers");
}

interface Timing {
  wall: number[];
  cpu: number[];
  rows: number;
}

/** Installs one peer into its own folder of the cache; the reason when it cannot be. */
function installPeer(
  name: keyof typeof PEERS,
  root: string,
  nodeModules: string,
): { dir: string } | { skipped: string } {
  const folder = join(root, name.replace("/", "+"));
  const dir = join(folder, "node_modules", name);
  if (existsSync(join(dir, "package.json"))) return { dir };
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, "package.json"), '{"name":"bench-peer","private":true}\n');
  // No install scripts and no optional dependencies: the peers' SQLite binding is this checkout's own
  // better-sqlite3 build (linked below), so nothing is compiled or downloaded.
  const install = spawnSync(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--ignore-scripts",
      "--omit=optional",
      "--no-save",
      `${name}@${PEERS[name]}`,
    ],
    { cwd: folder, encoding: "utf8" },
  );
  if (install.status !== 0) {
    const reason = /E404|404 Not Found/.test(install.stderr)
      ? "not in the npm registry under this name"
      : (install.stderr.trim().split("\n").at(-2) ?? `npm exited with ${install.status}`);
    return { skipped: `npm install ${name}@${PEERS[name]} failed: ${reason}` };
  }
  const binding = join(folder, "node_modules", "better-sqlite3");
  if (!existsSync(binding)) symlinkSync(join(nodeModules, "better-sqlite3"), binding);
  return { dir };
}

function timeSync<T extends { length: number }>(reps: number, call: () => T): Timing {
  call();
  const wall: number[] = [];
  const cpu: number[] = [];
  let result = call();
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    result = call();
    const used = process.cpuUsage(cpuStart);
    wall.push(performance.now() - start);
    cpu.push((used.user + used.system) / 1000);
  }
  return { wall, cpu, rows: result.length };
}

export interface PeersResult {
  messages: number;
  ours: Record<string, Timing>;
  peers: Record<string, Record<string, Timing> | { skipped: string }>;
}

/**
 * Generates (or reuses) a demo in Apple's macOS 26 schema (imessage-kit 3 reads columns only that schema
 * has), builds this project's index, and times each call on both sides.
 */
export async function runPeers(options: {
  root: string;
  results: string;
  messages: number;
  reps: number;
  log: (line: string) => void;
}): Promise<PeersResult> {
  const dir = join(options.results, `demo-${options.messages}-macos26`);
  const chatDb = join(dir, "Messages", "chat.db");
  if (!existsSync(join(dir, "bench-demo.json"))) {
    rmSync(dir, { recursive: true, force: true });
    options.log(
      `generating ${options.messages.toLocaleString("en-US")} messages (macOS 26 schema) in ${dir} …`,
    );
    generateDemo({ dir, messages: options.messages, macos26: true });
    writeFileSync(join(dir, "bench-demo.json"), JSON.stringify({ messages: options.messages }));
  }
  const db = new BetterSqlite3(chatDb, { readonly: true });
  const chat = db
    .prepare(
      `SELECT c.ROWID AS rowid, c.guid AS guid FROM chat c JOIN chat_message_join j ON j.chat_id = c.ROWID
       WHERE c.style = 45 GROUP BY c.ROWID ORDER BY COUNT(*) DESC LIMIT 1`,
    )
    .get() as { rowid: number; guid: string };
  db.close();

  const stateDir = join(options.results, `peers-state-${options.messages}`);
  const store = openMessagesStore(chatDb);
  options.log("building this project's search index for the comparison …");
  await buildIndex(store, { stateDir });
  const reader = IndexedMessagesReader.open(store, { stateDir });
  const ours: Record<string, Timing> = {};
  try {
    ours.search = timeSync(options.reps, () => reader.searchMessages({ text: "dinner", limit: 20 }));
    ours.searchScan = timeSync(options.reps, () => store.searchMessages({ text: "dinner", limit: 20 }));
    ours.chatPage = timeSync(options.reps, () => reader.getMessages({ chatRowids: [chat.rowid], limit: 50 }));
    ours.listChats = timeSync(options.reps, () => reader.listChats({ limit: 20 }));
  } finally {
    reader.close();
  }

  const cache = peersCacheDir();
  mkdirSync(cache, { recursive: true });
  const nodeModules = join(options.root, "node_modules");
  const peers: PeersResult["peers"] = {};
  const kit = installPeer("@photon-ai/imessage-kit", cache, nodeModules);
  if ("skipped" in kit) peers["@photon-ai/imessage-kit"] = kit;
  else {
    options.log("timing @photon-ai/imessage-kit …");
    try {
      const out = execFileSync(
        process.execPath,
        [
          join(options.root, "bench", "peer-imessage-kit.mjs"),
          kit.dir,
          chatDb,
          String(options.reps),
          chat.guid,
        ],
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 24 },
      );
      peers["@photon-ai/imessage-kit"] = JSON.parse(out.trim().split("\n").at(-1) ?? "{}");
    } catch (error) {
      const stderr = String((error as { stderr?: unknown }).stderr ?? error);
      peers["@photon-ai/imessage-kit"] = {
        skipped: `failed on this machine: ${stderr.trim().split("\n")[0]}`,
      };
    }
  }
  const mcp = installPeer("imessage-mcp", cache, nodeModules);
  // An MCP server: timed over stdio when it installs (it did not in the recorded runs; see the output).
  peers["imessage-mcp"] =
    "skipped" in mcp ? mcp : { skipped: "installed, but driving it over stdio is not implemented yet" };
  return { messages: options.messages, ours, peers };
}

const CALLS: Record<string, string> = {
  search: 'search "dinner", newest 20',
  chatPage: "a long chat, newest 50",
  listChats: "chats, most recent 20",
};

export function peersTable(r: PeersResult): string {
  const p50 = (t: Timing, key: "wall" | "cpu"): Stats => stats(t[key]);
  const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
  const lines = [
    `Peers, in-process library calls on one ${r.messages.toLocaleString("en-US")}-message chat.db (macOS 26 schema), p50 wall (CPU):`,
    "",
    "| call | this project | peer | peer ÷ this project (wall / CPU) |",
    "| --- | ---: | ---: | ---: |",
  ];
  for (const [peer, timings] of Object.entries(r.peers)) {
    if ("skipped" in timings) {
      lines.push(`| ${peer} | | not measured: ${timings.skipped} | |`);
      continue;
    }
    for (const [call, label] of Object.entries(CALLS)) {
      const ours = r.ours[call];
      const theirs = (timings as Record<string, Timing>)[call];
      if (!ours || !theirs) continue;
      const [ow, oc, tw, tc] = [p50(ours, "wall"), p50(ours, "cpu"), p50(theirs, "wall"), p50(theirs, "cpu")];
      lines.push(
        `| ${peer}: ${label} | ${fmt(ow.p50)} ms (${fmt(oc.p50)}) | ${fmt(tw.p50)} ms (${fmt(tc.p50)}) | ${(tw.p50 / ow.p50).toFixed(1)}× / ${(tc.p50 / Math.max(oc.p50, 0.001)).toFixed(1)}× |`,
      );
    }
  }
  const scan = r.ours.searchScan;
  if (scan) {
    lines.push(
      "",
      `This project's own linear scan (no index) for the same search: ${fmt(stats(scan.wall).p50)} ms p50 (CPU ${fmt(stats(scan.cpu).p50)} ms).`,
    );
  }
  return lines.join("\n");
}
