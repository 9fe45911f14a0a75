// Sessions with the real server over stdio (the built CLI, as an MCP client runs it), one server per
// database, side by side: page reads of a long conversation (first page, a deep page through cursors, a date
// window, list_chats; each read again and again) and of another person's history (a page not read before in
// each call), cold (a new process, started with the code cache as a user's later starts are) and then
// warm, each call taking turns between the servers; then — with no index built yet — the first search, which
// starts the index build in the worker thread, and the same calls
// again while it builds, until the search answers from the finished index. A server's peak RSS (VmHWM)
// covers all of its session.
import { readdirSync, readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import type { StdioServerCommand } from "../test/helpers/stdio-session.js";
import { warmCodeCache } from "./code-cache-warm.js";
import { type Stats, stats } from "./stats.js";

export interface SessionInput {
  entry: string;
  cwd: string;
  chatDb: string;
  contactsRoot: string;
  stateDir: string;
  /** A handle id (phone/email) of the longest one-to-one conversation. */
  contact: string;
  /** Another person's handle id, outside that chat: a walk back through pages the session has not read. */
  otherContact: string;
  /** chat_identifier of the longest chat. */
  chat: string;
  /** ISO date of a one-week window inside the chat's history. */
  windowStart: string;
  windowEnd: string;
  /** How many pages deep the "deep page" is. */
  depth: number;
  searchWord: string;
  reps: number;
  /** Measure the index build (first search on a fresh state folder). */
  build: boolean;
}

export interface SessionOutput {
  /** Wall time per call as the client sees it, and the server's CPU time per call (Linux; null elsewhere). */
  calls: Record<string, Stats & { cpu: Stats | null }>;
  build: null | {
    /** First search until a search answers without the "still being built" notice. */
    seconds: number;
    firstSearchMs: number;
    /** Searches answered during the build (partial). */
    searchDuring: Stats;
    /** The contact page during the build, and its ratio to the same call before it (warm: so is the process by then). */
    pageDuring: Stats;
    pageRatio: number;
    searchAfter: Stats;
  };
  peakRssMb: number | null;
}

/** Rounds of the contact page, chat page and list_chats before their warm figures (about 3 s at 1M). */
const WARM_ROUNDS = 150;

type CallResult = { structuredContent?: Record<string, unknown>; content?: unknown; isError?: boolean };

function peakRss(pid: number | null): number | null {
  if (!pid) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match ? Math.round(Number(match[1]) / 1024) : null;
  } catch {
    return null;
  }
}

/**
 * CPU time the server's threads have run, in ms (Linux: each /proc/<pid>/task/<tid>/schedstat, in
 * nanoseconds); null where there is no /proc. Unlike wall time it leaves out waiting for a core, so it stays
 * meaningful when other work shares the machine.
 */
function serverCpuMs(pid: number | null): number | null {
  if (!pid) return null;
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    }
    return ns / 1e6;
  } catch {
    return null;
  }
}

interface Server {
  input: SessionInput;
  transport: StdioClientTransport;
  client: Client;
}

/** The session's server as an MCP client's configuration starts it: the built CLI, read-only. */
function serverCommand(input: SessionInput): StdioServerCommand {
  return {
    command: process.execPath,
    args: [input.entry, "--db", input.chatDb, "--contacts-dir", input.contactsRoot, "--read-only"],
    cwd: input.cwd,
    env: { ...process.env, MAC_MESSAGES_MCP_HOME: input.stateDir } as Record<string, string>,
  };
}

async function openServer(input: SessionInput): Promise<Server> {
  const transport = new StdioClientTransport({ ...serverCommand(input), stderr: "ignore" });
  const client = new Client({ name: "bench-stdio", version: "1.0.0" });
  await client.connect(transport);
  return { input, transport, client };
}

async function call(server: Server, name: string, args: Record<string, unknown>): Promise<CallResult> {
  const result = (await server.client.callTool({ name, arguments: args })) as CallResult;
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content).slice(0, 300)}`);
  return result;
}

async function timed(server: Server, name: string, args: Record<string, unknown>) {
  const start = performance.now();
  const result = await call(server, name, args);
  return { ms: performance.now() - start, result };
}

/**
 * `reps` timed calls on each server, taking turns call by call (the first server first on even rounds, last
 * on odd ones), after one untimed call each: so a change in the machine's load falls on every server alike,
 * and the 10k ÷ 1M ratio compares like with like rather than two sessions run one after the other.
 */
async function repeat(
  servers: Server[],
  reps: number,
  name: string,
  argsOf: (input: SessionInput) => Record<string, unknown>,
  onResult?: (input: SessionInput, result: CallResult) => void,
): Promise<(Stats & { cpu: Stats | null })[]> {
  for (const server of servers) onResult?.(server.input, await call(server, name, argsOf(server.input)));
  const samples = servers.map(() => [] as number[]);
  const cpu = servers.map(() => [] as number[]);
  for (let i = 0; i < reps; i++) {
    const order = servers.map((_, index) => index);
    if (i % 2 === 1) order.reverse();
    for (const index of order) {
      const server = servers[index] as Server;
      const before = serverCpuMs(server.transport.pid);
      const { ms, result } = await timed(server, name, argsOf(server.input));
      samples[index]?.push(ms);
      onResult?.(server.input, result);
      // The answer is written before the server's last bookkeeping for the call: let it finish.
      await new Promise((resolve) => setTimeout(resolve, 2));
      const after = serverCpuMs(server.transport.pid);
      if (before !== null && after !== null) cpu[index]?.push(after - before);
    }
  }
  return servers.map((_, index) => {
    const cpuSamples = cpu[index] ?? [];
    return { ...stats(samples[index] ?? []), cpu: cpuSamples.length > 0 ? stats(cpuSamples) : null };
  });
}

const contactPage = (input: SessionInput) => ({
  contact: input.contact,
  start_date: "2001-01-02",
  limit: 50,
});
/** The cursor a page's text offers for the next older page (`call again with cursor "…"`), if any. */
function cursorIn(result: CallResult): string | undefined {
  const texts = Array.isArray(result.content) ? result.content : [];
  const text = texts
    .map((block: { text?: unknown }) => (typeof block.text === "string" ? block.text : ""))
    .join("\n");
  // At the end of the history (the 10k database's, in the warm rounds) the walk starts again from the newest.
  return /call again with cursor "([^"]+)"/.exec(text)?.[1];
}

const chatPage = (input: SessionInput) => ({ chat: input.chat, start_date: "2001-01-02", limit: 50 });

/** The first search on a fresh state folder starts the build; the same calls again until it is complete. */
async function buildPhase(
  server: Server,
  warmContactP50: number | undefined,
): Promise<SessionOutput["build"]> {
  const search = { query: server.input.searchWord };
  const started = performance.now();
  const first = await timed(server, "search_messages", search);
  const partial = (r: CallResult) => JSON.stringify(r.content ?? "").includes("still being built");
  const during: number[] = [];
  const pages: number[] = [];
  let done = !partial(first.result);
  while (!done && performance.now() - started < 600_000) {
    for (let i = 0; i < 4; i++)
      pages.push((await timed(server, "get_recent_messages", contactPage(server.input))).ms);
    const probe = await timed(server, "search_messages", search);
    if (partial(probe.result)) during.push(probe.ms);
    else done = true;
  }
  const seconds = (performance.now() - started) / 1000;
  const pageDuring = stats(pages);
  const [searchAfter] = await repeat([server], server.input.reps, "search_messages", () => search);
  return {
    seconds: Math.round(seconds * 10) / 10,
    firstSearchMs: Math.round(first.ms),
    searchDuring: stats(during),
    pageDuring,
    pageRatio: Math.round((pageDuring.p50 / (warmContactP50 ?? 1)) * 100) / 100,
    searchAfter: searchAfter as Stats,
  };
}

/**
 * One session per input, each with its own server, run side by side: every page-read measurement takes
 * turns between the servers (repeat), then each input that asks for it measures the index build alone, the
 * other servers closed. `reps` and `depth` come from the first input.
 */
export async function stdioSessions(inputs: SessionInput[]): Promise<SessionOutput[]> {
  // Each server starts as a user's starts after the first do, and as the start-up rows' servers: with the code
  // cache a first session wrote (warmCodeCache: it lists the tools and some chats, no search, so the index is
  // still to be built). A first start compiles the whole program from source instead, and writes that cache
  // among the timed calls: ~56M instructions on the main thread in one of them (callgrind).
  for (const input of inputs) await warmCodeCache(serverCommand(input));
  const servers: Server[] = [];
  try {
    for (const input of inputs) servers.push(await openServer(input));
    const [{ reps, depth }] = inputs as [SessionInput];
    // A deep page: each server follows its chat's cursors `depth` pages back.
    const cursors = new Map<SessionInput, string>();
    for (const server of servers) {
      let cursor: unknown;
      for (let page = 0; page < depth; page++) {
        // format "json" hands back the data (with nextCursor) as well as the text.
        const { result } = await timed(server, "get_recent_messages", {
          ...chatPage(server.input),
          format: "json",
          ...(cursor ? { cursor } : {}),
        });
        cursor = result.structuredContent?.nextCursor;
        if (typeof cursor !== "string") break;
      }
      if (typeof cursor === "string") cursors.set(server.input, cursor);
    }
    const calls: SessionOutput["calls"][] = servers.map(() => ({}));
    const measure = async (
      label: string,
      name: string,
      argsOf: (input: SessionInput) => Record<string, unknown>,
      among = servers,
      onResult?: (input: SessionInput, result: CallResult) => void,
    ) => {
      const results = await repeat(among, reps, name, argsOf, onResult);
      among.forEach((server, i) => {
        (calls[servers.indexOf(server)] as SessionOutput["calls"])[label] = results[i] as Stats & {
          cpu: Stats | null;
        };
      });
    };
    const contactLabel = "contact, all history, newest 50";
    const chatLabel = "chat, all history, newest 50";
    await measure(contactLabel, "get_recent_messages", contactPage);
    // The rows here read one page again and again, as an assistant checking a conversation does; the store
    // keeps what those messages decoded to. This one reads a page no call of the session has read: each call
    // the next older page of another person's history, following the cursor the last answer gave.
    const walkBack = new Map<SessionInput, string | undefined>();
    const olderPage = (input: SessionInput) => ({
      ...contactPage(input),
      contact: input.otherContact,
      cursor: walkBack.get(input),
    });
    const walkedBack = (input: SessionInput, result: CallResult) => {
      const cursor = cursorIn(result);
      // Past the newest page a walk may end (and start again); the newest page itself always has an older one,
      // so no cursor there means the answer's wording changed, and the row would silently read one page again.
      if (cursor === undefined && walkBack.get(input) === undefined) {
        throw new Error(`no cursor for an older page in ${input.otherContact}'s newest page`);
      }
      walkBack.set(input, cursor);
    };
    const olderLabel = "another contact, each call the next older page";
    await measure(olderLabel, "get_recent_messages", olderPage, servers, walkedBack);
    await measure(chatLabel, "get_recent_messages", chatPage);
    const withCursor = servers.filter((server) => cursors.has(server.input));
    if (withCursor.length > 0) {
      await measure(
        `chat, page ${depth} by cursor`,
        "get_recent_messages",
        (input) => ({
          ...chatPage(input),
          cursor: cursors.get(input),
        }),
        withCursor,
      );
    }
    await measure("chat, one-week window, newest 50", "get_recent_messages", (input) => ({
      chat: input.chat,
      start_date: input.windowStart,
      end_date: input.windowEnd,
      limit: 50,
    }));
    await measure("list_chats", "list_chats", () => ({}));
    // The calls above run in a fresh process while V8 is still compiling them: its helper threads' optimising
    // compiles (and slower code until they land) count in the server's CPU, 3-5 ms per call in the first
    // ~100 calls and under 1 ms after a few hundred. The same calls again once warm separate that one-off
    // cost from what every call costs.
    type WarmCall = [
      string,
      string,
      (input: SessionInput) => Record<string, unknown>,
      ((input: SessionInput, result: CallResult) => void)?,
    ];
    const warm: WarmCall[] = [
      [contactLabel, "get_recent_messages", contactPage],
      [olderLabel, "get_recent_messages", olderPage, walkedBack],
      [chatLabel, "get_recent_messages", chatPage],
      ["list_chats", "list_chats", () => ({})],
    ];
    for (let round = 0; round < WARM_ROUNDS; round++) {
      for (const server of servers)
        for (const [, name, argsOf, onResult] of warm)
          onResult?.(server.input, await call(server, name, argsOf(server.input)));
    }
    const warmLabel = (label: string) => `${label}, warm (after ${WARM_ROUNDS * warm.length} more calls)`;
    for (const [label, name, argsOf, onResult] of warm)
      await measure(warmLabel(label), name, argsOf, servers, onResult);

    // The build alone: the other servers' work would only add noise to it.
    const builds: SessionOutput["build"][] = servers.map(() => null);
    const peaks = servers.map((server) => peakRss(server.transport.pid));
    for (const server of servers) if (!server.input.build) await server.client.close();
    for (const [i, server] of servers.entries()) {
      if (!server.input.build) continue;
      builds[i] = await buildPhase(server, calls[i]?.[warmLabel(contactLabel)]?.p50);
    }
    return servers.map((server, i) => ({
      calls: calls[i] as SessionOutput["calls"],
      build: builds[i] ?? null,
      peakRssMb: server.input.build ? peakRss(server.transport.pid) : (peaks[i] ?? null),
    }));
  } finally {
    for (const server of servers) await server.client.close();
  }
}
