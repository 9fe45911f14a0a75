// Load on loopback: 50 authenticated SDK clients calling tools over Streamable HTTP (/mcp) and 50 legacy
// SSE sessions (/sse + /messages) at the same time, for a bounded time. Then everything is closed and the
// server (its own process, --expose-gc) must show no errors, no SSE sessions or timers left over, and
// memory back near where it started. Prints a summary table (also written to test-artifacts/).
import assert from "node:assert/strict";
import { type ChildProcess, fork } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { after, test } from "node:test";
import type { CallToolResult } from "@modelcontextprotocol/client";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { obtainTokens, registerClient } from "../helpers/remote-oauth-http.js";
import type { ServerStats } from "./helpers/load-server.js";

const HTTP_CLIENTS = 50;
const SSE_STREAMS = 50;
const LOAD_SECONDS = Number(process.env.LOAD_SECONDS ?? 20);
const MAX_CALLS_PER_CLIENT = 20_000;
/**
 * Each client makes at least this many calls even when the window has passed: on a busy machine (CI on a
 * developer's laptop) connecting 100 clients can take most of the window, and "every client made calls"
 * must test the server, not the machine's speed.
 */
const MIN_CALLS_PER_CLIENT = 3;
const TOKENS = 10; // shared by the clients: /token allows 50 grants per 15 minutes
const MB = 1024 * 1024;

let server: ChildProcess | undefined;
after(() => {
  if (server && server.exitCode === null) server.kill("SIGKILL");
});

function request<T>(child: ChildProcess, type: string, reply: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (message: { type: string } & Record<string, unknown>) => {
      if (message.type !== reply) return;
      child.off("message", onMessage);
      resolve(message as T);
    };
    child.on("message", onMessage);
    if (type) child.send({ type });
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Tally {
  latenciesMs: number[];
  errors: string[];
}

const TOOL_CALLS: { name: string; arguments: Record<string, unknown> }[] = [
  { name: "search_messages", arguments: { query: "filler message number 19", mode: "substring", limit: 5 } },
  { name: "list_chats", arguments: {} },
  { name: "get_recent_messages", arguments: { hours: 24, limit: 20 } },
  { name: "search_messages", arguments: { query: "50%", mode: "substring" } },
];

/** The legacy transport by hand: GET /sse for the stream, POST /messages for requests, answers on the stream. */
class RawSseSession {
  private readonly controller = new AbortController();
  private endpoint: string | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (message: Record<string, unknown>) => void>();
  private endpointReady!: Promise<void>;

  constructor(
    private readonly serverUrl: string,
    private readonly token: string,
  ) {}

  async open(): Promise<void> {
    const res = await fetch(`${this.serverUrl}/sse`, {
      headers: { authorization: `Bearer ${this.token}`, accept: "text/event-stream" },
      signal: this.controller.signal,
    });
    if (res.status !== 200) throw new Error(`GET /sse answered ${res.status}`);
    let resolveEndpoint!: () => void;
    this.endpointReady = new Promise((resolve) => {
      resolveEndpoint = resolve;
    });
    void this.pump(res.body!.getReader(), resolveEndpoint);
    await this.endpointReady;
    await this.request("initialize", {
      protocolVersion: "2024-11-05",
      capabilities: {},
      clientInfo: { name: "load-sse", version: "1" },
    });
    await this.post({ jsonrpc: "2.0", method: "notifications/initialized" });
  }

  private async pump(reader: ReadableStreamDefaultReader<Uint8Array>, onEndpoint: () => void): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffered += decoder.decode(value, { stream: true });
        let split = buffered.indexOf("\n\n");
        while (split >= 0) {
          const block = buffered.slice(0, split);
          buffered = buffered.slice(split + 2);
          split = buffered.indexOf("\n\n");
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = block
            .split("\n")
            .filter((line) => line.startsWith("data: "))
            .map((line) => line.slice(6))
            .join("\n");
          if (event === "endpoint") {
            this.endpoint = data;
            onEndpoint();
          } else if (event === "message") {
            const message = JSON.parse(data) as { id?: number };
            if (typeof message.id === "number") this.pending.get(message.id)?.(message);
          }
        }
      }
    } catch {
      // Aborted by close(): the stream simply ends.
    }
  }

  private async post(body: unknown): Promise<void> {
    const res = await fetch(`${this.serverUrl}${this.endpoint}`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    await res.arrayBuffer();
    if (res.status !== 202) throw new Error(`POST /messages answered ${res.status}`);
  }

  async request(method: string, params: unknown): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer to ${method} within 15 s`));
      }, 15_000);
      this.pending.set(id, (message) => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(message);
      });
    });
    await this.post({ jsonrpc: "2.0", id, method, params });
    return await answer;
  }

  close(): void {
    this.controller.abort();
  }
}

async function runHttpClient(serverUrl: string, token: string, endAt: number, tally: Tally, index: number) {
  const client = new Client({ name: `load-${index}`, version: "1" });
  const transport = new StreamableHTTPClientTransport(new URL(`${serverUrl}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  try {
    for (
      let i = 0;
      (performance.now() < endAt || i < MIN_CALLS_PER_CLIENT) && i < MAX_CALLS_PER_CLIENT;
      i++
    ) {
      const call = TOOL_CALLS[(i + index) % TOOL_CALLS.length]!;
      const started = performance.now();
      try {
        const result = (await client.callTool(call)) as CallToolResult;
        if (result.isError)
          tally.errors.push(`${call.name}: ${JSON.stringify(result.content).slice(0, 200)}`);
      } catch (error) {
        tally.errors.push(`${call.name}: ${(error as Error).message}`);
      }
      tally.latenciesMs.push(performance.now() - started);
    }
  } finally {
    await client.close();
  }
}

async function runSseSession(session: RawSseSession, endAt: number, tally: Tally, index: number) {
  for (let i = 0; (performance.now() < endAt || i < MIN_CALLS_PER_CLIENT) && i < MAX_CALLS_PER_CLIENT; i++) {
    const call = TOOL_CALLS[(i + index) % TOOL_CALLS.length]!;
    const started = performance.now();
    try {
      const answer = await session.request("tools/call", call);
      const result = answer.result as CallToolResult | undefined;
      if (!result || result.isError)
        tally.errors.push(`${call.name}: ${JSON.stringify(answer).slice(0, 200)}`);
    } catch (error) {
      tally.errors.push(`${call.name}: ${(error as Error).message}`);
    }
    tally.latenciesMs.push(performance.now() - started);
    // SSE clients are the slower, chattier kind: a short think time keeps 50 streams busy but not saturated.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function row(cells: (string | number)[], widths: number[]): string {
  return cells.map((cell, i) => String(cell).padStart(widths[i]!)).join("  ");
}

test(`load: ${HTTP_CLIENTS} clients over /mcp and ${SSE_STREAMS} /sse streams for ${LOAD_SECONDS} s, nothing leaks`, {
  timeout: (LOAD_SECONDS + 120) * 1000,
}, async () => {
  server = fork(new URL("./helpers/load-server.ts", import.meta.url).pathname, [], {
    execArgv: ["--expose-gc", "--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const { serverUrl } = await request<{ serverUrl: string }>(server, "", "ready");
  const clientId = await registerClient(serverUrl);
  const tokens: string[] = [];
  for (let i = 0; i < TOKENS; i++) tokens.push((await obtainTokens(serverUrl, { clientId })).access_token);

  // Warm-up (JIT, statement cache) so "before" is the steady state, not a cold process.
  await runHttpClient(serverUrl, tokens[0]!, performance.now() + 1500, { latenciesMs: [], errors: [] }, 0);
  await new Promise((resolve) => setTimeout(resolve, 6000)); // keep-alive sockets of the warm-up expire
  const before = (await request<{ stats: ServerStats }>(server, "stats", "stats")).stats;

  const http: Tally = { latenciesMs: [], errors: [] };
  const sse: Tally = { latenciesMs: [], errors: [] };
  const sessions = Array.from(
    { length: SSE_STREAMS },
    (_, i) => new RawSseSession(serverUrl, tokens[i % TOKENS]!),
  );
  await Promise.all(sessions.map((s) => s.open()));
  const openHealth = (await (await fetch(`${serverUrl}/health`)).json()) as { activeSseSessions: number };
  assert.equal(openHealth.activeSseSessions, SSE_STREAMS);

  const started = performance.now();
  const endAt = started + LOAD_SECONDS * 1000;
  await Promise.all([
    ...Array.from({ length: HTTP_CLIENTS }, (_, i) =>
      runHttpClient(serverUrl, tokens[i % TOKENS]!, endAt, http, i),
    ),
    ...sessions.map((session, i) => runSseSession(session, endAt, sse, i)),
  ]);
  const elapsedS = (performance.now() - started) / 1000;
  for (const session of sessions) session.close();

  // The server notices closed streams asynchronously; poll (bounded) until sessions and sockets are gone.
  let afterStats = (await request<{ stats: ServerStats }>(server, "stats", "stats")).stats;
  for (
    let i = 0;
    i < 30 &&
    (afterStats.activeSseSessions > 0 ||
      (afterStats.activeResources.TCPSocketWrap ?? 0) > (before.activeResources.TCPSocketWrap ?? 0) + 2);
    i++
  ) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    afterStats = (await request<{ stats: ServerStats }>(server, "stats", "stats")).stats;
  }

  const widths = [22, 8, 9, 7, 9, 9, 9, 9];
  const lines = [
    `Load test: ${HTTP_CLIENTS} Streamable HTTP clients + ${SSE_STREAMS} SSE sessions, ${elapsedS.toFixed(1)} s on loopback`,
    row(["transport", "clients", "requests", "errors", "req/s", "p50 ms", "p99 ms", "max ms"], widths),
  ];
  for (const [name, clients, tally] of [
    ["Streamable HTTP /mcp", HTTP_CLIENTS, http],
    ["SSE /sse + /messages", SSE_STREAMS, sse],
  ] as const) {
    const sorted = [...tally.latenciesMs].sort((a, b) => a - b);
    lines.push(
      row(
        [
          name,
          clients,
          sorted.length,
          tally.errors.length,
          (sorted.length / elapsedS).toFixed(0),
          percentile(sorted, 50).toFixed(1),
          percentile(sorted, 99).toFixed(1),
          (sorted.at(-1) ?? Number.NaN).toFixed(1),
        ],
        widths,
      ),
    );
  }
  const resources = (s: ServerStats) =>
    Object.entries(s.activeResources)
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
  lines.push(
    `server RSS after GC: before ${(before.rssBytes / MB).toFixed(1)} MB, after ${(afterStats.rssBytes / MB).toFixed(1)} MB` +
      ` (${((afterStats.rssBytes - before.rssBytes) / MB).toFixed(1)} MB)`,
    `server heap used after GC: before ${(before.heapUsedBytes / MB).toFixed(1)} MB, after ${(afterStats.heapUsedBytes / MB).toFixed(1)} MB`,
    `SSE sessions: ${openHealth.activeSseSessions} during, ${afterStats.activeSseSessions} after; 5xx responses: ${afterStats.status5xx}; error log lines: ${afterStats.errorLogLines}`,
    `active resources before: ${resources(before)}`,
    `active resources after:  ${resources(afterStats)}`,
  );
  const summary = lines.join("\n");
  console.log(`\n${summary}\n`);
  mkdirSync("test-artifacts", { recursive: true });
  writeFileSync("test-artifacts/stress-load-summary.txt", `${summary}\n`);

  assert.deepEqual(http.errors.slice(0, 5), [], `${http.errors.length} errors over /mcp`);
  assert.deepEqual(sse.errors.slice(0, 5), [], `${sse.errors.length} errors over SSE`);
  assert.ok(http.latenciesMs.length >= HTTP_CLIENTS * MIN_CALLS_PER_CLIENT, "every HTTP client made calls");
  assert.ok(sse.latenciesMs.length >= SSE_STREAMS * MIN_CALLS_PER_CLIENT, "every SSE session made calls");
  assert.equal(afterStats.status5xx, 0);
  assert.equal(afterStats.errorLogLines, 0);
  assert.equal(afterStats.activeSseSessions, 0, "no SSE session left behind");
  // Each SSE session owns a keep-alive interval: leaked sessions would show up as leftover timers.
  assert.ok(
    (afterStats.activeResources.Timeout ?? 0) <= (before.activeResources.Timeout ?? 0) + 2,
    `timers: ${resources(before)} → ${resources(afterStats)}`,
  );
  assert.ok(
    (afterStats.activeResources.TCPSocketWrap ?? 0) <= (before.activeResources.TCPSocketWrap ?? 0) + 2,
    `sockets: ${resources(before)} → ${resources(afterStats)}`,
  );
  // Generous bounds: V8 and malloc keep some memory after a burst, a leak of per-request state would
  // grow with the ~10^4 requests served (tens of MB of heap).
  assert.ok(afterStats.heapUsedBytes - before.heapUsedBytes < 25 * MB, "heap back near its starting size");
  assert.ok(afterStats.rssBytes - before.rssBytes < 150 * MB, "RSS roughly flat");

  server.send({ type: "stop" });
  await new Promise((resolve) => server!.once("exit", resolve));
});
