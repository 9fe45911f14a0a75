// `npm run bench -- --peers`: the same read calls through this project's reader and through the TypeScript
// peers, on one generated chat.db, printed as ratios measured in the same run. The peers are installed from
// the npm registry into a cache folder outside the checkout (never a dependency of this package), and the
// run is not part of CI. A peer that cannot be installed or run here is named with the reason.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { generateDemo } from "../src/demo/generate.js";
import { buildIndex, IndexedMessagesReader } from "../src/messages/indexed-reader.js";
import { openMessagesStore } from "../src/messages/store.js";
import { warmCodeCache } from "./code-cache-warm.js";
import { compareOverStdio, type ServerTimings } from "./peer-mcp-servers.js";
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
  const binding = join(folder, "node_modules", "better-sqlite3");
  // The peer's SQLite binding is a link to this checkout's own build (see below). Made again on every run:
  // a link left by another checkout dangles once that checkout is gone.
  const linkBinding = () => {
    const existing = lstatSync(binding, { throwIfNoEntry: false });
    if (existing && !existing.isSymbolicLink()) return; // npm installed a binding of its own
    if (existing) unlinkSync(binding);
    symlinkSync(join(nodeModules, "better-sqlite3"), binding);
  };
  if (existsSync(join(dir, "package.json"))) {
    linkBinding();
    return { dir };
  }
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
  linkBinding();
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
  /** MCP servers over stdio, side by side with this project's built CLI. */
  servers: Record<string, { ours: ServerTimings; theirs: ServerTimings } | { skipped: string }>;
}

/**
 * imessage-mcp is not in the npm registry, so it cannot be installed like the library peers. Someone who
 * wants the comparison builds it from its repository and passes the folder (docs/performance.md says how);
 * the bench never fetches or builds it itself.
 */
async function compareImessageMcp(options: {
  root: string;
  results: string;
  dir: string | undefined;
  chatDb: string;
  contactsRoot: string;
  stateDir: string;
  chatIdentifier: string;
  contact: string;
  reps: number;
  log: (line: string) => void;
}): Promise<{ ours: ServerTimings; theirs: ServerTimings } | { skipped: string }> {
  if (!options.dir) {
    return {
      skipped: `imessage-mcp ${PEERS["imessage-mcp"]} is not in the npm registry; build it from its repository and pass --imessage-mcp <folder>`,
    };
  }
  const bin = join(options.dir, "bin", "imessage-mcp.js");
  if (!existsSync(bin) || !existsSync(join(options.dir, "dist"))) {
    return { skipped: `${options.dir} has no bin/imessage-mcp.js and dist/ (build it first)` };
  }
  // Its contacts come from ~/Library/Application Support/AddressBook: a home of its own that holds the
  // demo's address book, so both servers resolve the same names and neither reads this user's.
  const home = join(options.results, "imessage-mcp-home");
  const addressBook = join(home, "Library", "Application Support", "AddressBook");
  if (!existsSync(addressBook)) {
    mkdirSync(join(home, "Library", "Application Support"), { recursive: true });
    symlinkSync(options.contactsRoot, addressBook);
  }
  options.log("building this project's CLI and timing both MCP servers over stdio …");
  execFileSync("npm", ["run", "build", "--silent"], {
    cwd: options.root,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const env = { ...process.env } as Record<string, string>;
  const week = { start: "2001-01-02" };
  const ours = {
    command: process.execPath,
    args: [
      join(options.root, "dist", "src", "cli", "main.js"),
      "--db",
      options.chatDb,
      "--contacts-dir",
      options.contactsRoot,
      "--read-only",
    ],
    env: { ...env, MAC_MESSAGES_MCP_HOME: options.stateDir },
  };
  // Timed as a user's starts after the first: with the code cache the first one writes.
  await warmCodeCache(ours);
  return compareOverStdio({
    ours,
    theirs: {
      command: process.execPath,
      args: [bin],
      env: { ...env, HOME: home, IMESSAGE_DB: options.chatDb },
    },
    reps: options.reps,
    startups: Math.max(3, Math.min(options.reps, 10)),
    calls: [
      {
        label: 'search "dinner", newest 20',
        ours: { name: "search_messages", arguments: { query: "dinner", limit: 20 } },
        theirs: { name: "search_messages", arguments: { query: "dinner", limit: 20 } },
      },
      {
        label: "a long chat, newest 50",
        ours: {
          name: "get_recent_messages",
          arguments: { chat: options.chatIdentifier, start_date: week.start, limit: 50 },
        },
        theirs: { name: "get_conversation", arguments: { chat_id: options.chatIdentifier, limit: 50 } },
      },
      {
        label: "one contact, newest 50",
        ours: {
          name: "get_recent_messages",
          arguments: { contact: options.contact, start_date: week.start, limit: 50 },
        },
        theirs: { name: "get_conversation", arguments: { contact: options.contact, limit: 50 } },
      },
    ],
  });
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
  /** A built checkout of anipotts/imessage-mcp (not in the npm registry). */
  imessageMcpDir?: string;
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
      `SELECT c.ROWID AS rowid, c.guid AS guid, c.chat_identifier AS identifier FROM chat c
       JOIN chat_message_join j ON j.chat_id = c.ROWID
       WHERE c.style = 45 GROUP BY c.ROWID ORDER BY COUNT(*) DESC LIMIT 1`,
    )
    .get() as { rowid: number; guid: string; identifier: string };
  const contact = db
    .prepare(
      "SELECT h.id AS id FROM chat_handle_join x JOIN handle h ON h.ROWID = x.handle_id WHERE x.chat_id = ? LIMIT 1",
    )
    .get(chat.rowid) as { id: string };
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
  const servers: PeersResult["servers"] = {};
  servers[`imessage-mcp ${PEERS["imessage-mcp"]}`] = await compareImessageMcp({
    root: options.root,
    results: options.results,
    dir: options.imessageMcpDir,
    chatDb,
    contactsRoot: join(dir, "AddressBook"),
    stateDir,
    chatIdentifier: chat.identifier,
    contact: contact.id,
    reps: options.reps,
    log: options.log,
  });
  return { messages: options.messages, ours, peers, servers };
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
  for (const [server, result] of Object.entries(r.servers ?? {})) {
    lines.push("", `MCP servers over stdio (built CLIs, real MCP client, asked alternately), p50 wall:`, "");
    if ("skipped" in result) {
      lines.push(`- ${server}: not measured: ${result.skipped}`);
      continue;
    }
    lines.push(
      `| call | this project | ${server} | peer ÷ this project | characters a model reads (ours / peer) |`,
      "| --- | ---: | ---: | ---: | ---: |",
      `| start-up to tools/list | ${fmt(result.ours.startup.p50)} ms | ${fmt(result.theirs.startup.p50)} ms | ${(result.theirs.startup.p50 / result.ours.startup.p50).toFixed(1)}× | |`,
    );
    for (const [label, ours] of Object.entries(result.ours.calls)) {
      const theirs = result.theirs.calls[label];
      if (!theirs) continue;
      lines.push(
        `| ${label} | ${fmt(ours.wall.p50)} ms | ${fmt(theirs.wall.p50)} ms | ${(theirs.wall.p50 / ours.wall.p50).toFixed(1)}× | ${ours.modelChars.toLocaleString("en-US")} / ${theirs.modelChars.toLocaleString("en-US")} |`,
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
