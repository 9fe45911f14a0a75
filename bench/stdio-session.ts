// One session with the real server over stdio (the built CLI, as an MCP client runs it): page reads of a
// long conversation (first page, a deep page through cursors, a date window), then — on a fresh state folder —
// the first search, which starts the index build in the worker thread, and the same calls again while it
// builds, until the search answers from the finished index. The server's peak RSS (VmHWM) covers all of it.
import { readdirSync, readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { type Stats, stats } from "./stats.js";

export interface SessionInput {
  entry: string;
  cwd: string;
  chatDb: string;
  contactsRoot: string;
  stateDir: string;
  /** A handle id (phone/email) of the longest one-to-one conversation. */
  contact: string;
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

export async function stdioSession(input: SessionInput): Promise<SessionOutput> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [input.entry, "--db", input.chatDb, "--contacts-dir", input.contactsRoot, "--read-only"],
    cwd: input.cwd,
    env: { ...process.env, MAC_MESSAGES_MCP_HOME: input.stateDir } as Record<string, string>,
    stderr: "ignore",
  });
  const client = new Client({ name: "bench-stdio", version: "1.0.0" });
  await client.connect(transport);
  const call = async (name: string, args: Record<string, unknown>): Promise<CallResult> => {
    const result = (await client.callTool({ name, arguments: args })) as CallResult;
    if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content).slice(0, 300)}`);
    return result;
  };
  const timed = async (name: string, args: Record<string, unknown>) => {
    const start = performance.now();
    const result = await call(name, args);
    return { ms: performance.now() - start, result };
  };
  const repeat = async (reps: number, name: string, args: Record<string, unknown>) => {
    await call(name, args);
    const samples: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < reps; i++) {
      const before = serverCpuMs(transport.pid);
      samples.push((await timed(name, args)).ms);
      // The answer is written before the server's last bookkeeping for the call: let it finish.
      await new Promise((resolve) => setTimeout(resolve, 2));
      const after = serverCpuMs(transport.pid);
      if (before !== null && after !== null) cpu.push(after - before);
    }
    return { ...stats(samples), cpu: cpu.length > 0 ? stats(cpu) : null };
  };
  try {
    const contactPage = { contact: input.contact, start_date: "2001-01-02", limit: 50 };
    const chatPage = { chat: input.chat, start_date: "2001-01-02", limit: 50 };
    let cursor: unknown;
    for (let page = 0; page < input.depth; page++) {
      // format "json" hands back the data (with nextCursor) as well as the text.
      const { result } = await timed("get_recent_messages", {
        ...chatPage,
        format: "json",
        ...(cursor ? { cursor } : {}),
      });
      cursor = result.structuredContent?.nextCursor;
      if (typeof cursor !== "string") break;
    }
    const calls: SessionOutput["calls"] = {};
    const contactLabel = "contact, all history, newest 50";
    const chatLabel = "chat, all history, newest 50";
    calls[contactLabel] = await repeat(input.reps, "get_recent_messages", contactPage);
    calls[chatLabel] = await repeat(input.reps, "get_recent_messages", chatPage);
    if (typeof cursor === "string") {
      calls[`chat, page ${input.depth} by cursor`] = await repeat(input.reps, "get_recent_messages", {
        ...chatPage,
        cursor,
      });
    }
    calls["chat, one-week window, newest 50"] = await repeat(input.reps, "get_recent_messages", {
      chat: input.chat,
      start_date: input.windowStart,
      end_date: input.windowEnd,
      limit: 50,
    });
    calls.list_chats = await repeat(input.reps, "list_chats", {});
    // The calls above run in a fresh process while V8 is still compiling them: its helper threads' optimising
    // compiles (and slower code until they land) count in the server's CPU, 3-5 ms per call in the first
    // ~100 calls and under 1 ms after a few hundred. The same calls again once warm separate that one-off
    // cost from what every call costs.
    const warm: [string, string, Record<string, unknown>][] = [
      [contactLabel, "get_recent_messages", contactPage],
      [chatLabel, "get_recent_messages", chatPage],
      ["list_chats", "list_chats", {}],
    ];
    for (let round = 0; round < WARM_ROUNDS; round++) {
      for (const [, name, args] of warm) await call(name, args);
    }
    const warmLabel = (label: string) => `${label}, warm (after ${WARM_ROUNDS * warm.length} more calls)`;
    for (const [label, name, args] of warm) calls[warmLabel(label)] = await repeat(input.reps, name, args);

    let build: SessionOutput["build"] = null;
    if (input.build) {
      const search = { query: input.searchWord };
      const started = performance.now();
      const first = await timed("search_messages", search);
      const partial = (r: CallResult) => JSON.stringify(r.content ?? "").includes("still being built");
      const during: number[] = [];
      const pages: number[] = [];
      let done = !partial(first.result);
      while (!done && performance.now() - started < 600_000) {
        for (let i = 0; i < 4; i++) pages.push((await timed("get_recent_messages", contactPage)).ms);
        const probe = await timed("search_messages", search);
        if (partial(probe.result)) during.push(probe.ms);
        else done = true;
      }
      const seconds = (performance.now() - started) / 1000;
      const pageDuring = stats(pages);
      build = {
        seconds: Math.round(seconds * 10) / 10,
        firstSearchMs: Math.round(first.ms),
        searchDuring: stats(during),
        pageDuring,
        pageRatio: Math.round((pageDuring.p50 / (calls[warmLabel(contactLabel)]?.p50 ?? 1)) * 100) / 100,
        searchAfter: await repeat(input.reps, "search_messages", search),
      };
    }
    return { calls, build, peakRssMb: peakRss(transport.pid) };
  } finally {
    await client.close();
  }
}
