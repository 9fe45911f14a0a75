// Benchmark worker: a fresh process that serves the real MCP server (with the search index) over the SDK's
// in-memory transport and times tool calls, then the same searches through the index and through the naive
// scan, then remote /mcp throughput. Its own peak RSS is the server's. Input: one JSON argument; output: one
// JSON line on stdout.
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { Client, InMemoryTransport } from "@modelcontextprotocol/client";
import { ContactsStore } from "../src/contacts/index.js";
import { createMcpServer, SEND_TOOL_NAMES } from "../src/mcp/index.js";
import { IndexedMessagesReader } from "../src/messages/indexed-reader.js";
import { openMessagesStore } from "../src/messages/store.js";
import type { SearchQuery } from "../src/messages/types.js";
import { setOwnerPassword, startRemoteServer } from "../src/remote/index.js";
import { obtainTokens, registerClient } from "../test/helpers/remote-oauth-http.js";
import { type Stats, stats } from "./stats.js";

export interface WorkerInput {
  chatDb: string;
  contactsRoot: string;
  stateDir: string;
  remoteStateDir: string;
  /** Hours back that cover the demo's last 24 h (the demo's "now" may be in the past). */
  recentHours: number;
  contact: string;
  searches: { label: string; text: string; mode: "substring" | "fuzzy" }[];
  reps: number;
  scanReps: number;
  autocannonSeconds: number;
}

export interface WorkerOutput {
  tools: Record<string, Stats & { note?: string }>;
  indexSearch: Record<string, Stats & { hits: number }>;
  scanSearch: Record<string, Stats & { hits: number; identical: boolean }>;
  serverPeakRssMb: number;
  remote:
    | { requestsPerSec: number; latencyP50Ms: number; latencyP99Ms: number; errors: number; non2xx: number }
    | { skipped: string };
}

async function time(fn: () => unknown | Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function repeat(reps: number, fn: () => unknown | Promise<unknown>): Promise<number[]> {
  await fn(); // warm-up: prepared statements, page cache
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) samples.push(await time(fn));
  return samples;
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? "{}") as WorkerInput;
  const store = openMessagesStore(input.chatDb);
  const reader = IndexedMessagesReader.open(store, {
    stateDir: input.stateDir,
    autoBuild: false,
    syncIntervalMs: 1000,
  });
  if (!reader.indexReady) throw new Error("the search index is not built");
  const contacts = ContactsStore.open({ roots: [input.contactsRoot] });
  const deps = { messages: reader, contacts, sender: null, demo: true };
  const server = createMcpServer(deps);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(clientSide);

  const call = async (name: string, args: Record<string, unknown>) => {
    const result = await client.callTool({ name, arguments: args });
    if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content).slice(0, 300)}`);
    return result;
  };

  const tools: WorkerOutput["tools"] = {};
  tools["get_recent_messages (24 h, one contact)"] = stats(
    await repeat(input.reps, () =>
      call("get_recent_messages", { hours: input.recentHours, contact: input.contact }),
    ),
  );
  tools.list_chats = stats(await repeat(input.reps, () => call("list_chats", {})));
  for (const search of input.searches) {
    const samples = await repeat(input.reps, () =>
      call("search_messages", { query: search.text, mode: search.mode }),
    );
    tools[`search_messages ${search.label}`] = stats(samples);
  }
  const serverPeakRssMb = process.resourceUsage().maxRSS / 1024;

  const indexSearch: WorkerOutput["indexSearch"] = {};
  const scanSearch: WorkerOutput["scanSearch"] = {};
  for (const search of input.searches) {
    const query: SearchQuery = { text: search.text, mode: search.mode, limit: 21 };
    const indexed = reader.searchMessages(query).map((m) => m.rowid);
    indexSearch[search.label] = {
      ...stats(await repeat(input.reps, () => reader.searchMessages(query))),
      hits: indexed.length,
    };
    const scanned = store.searchMessages(query).map((m) => m.rowid);
    scanSearch[search.label] = {
      ...stats(await repeat(input.scanReps, () => store.searchMessages(query))),
      hits: scanned.length,
      identical: JSON.stringify(scanned) === JSON.stringify(indexed),
    };
  }

  let remote: WorkerOutput["remote"];
  try {
    remote = await remoteThroughput(input, deps);
  } catch (error) {
    remote = { skipped: error instanceof Error ? error.message : String(error) };
  }

  await client.close();
  reader.close();
  const output: WorkerOutput = {
    tools,
    indexSearch,
    scanSearch,
    serverPeakRssMb,
    remote,
  };
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  errors: number;
  non2xx: number;
}

async function remoteThroughput(
  input: WorkerInput,
  deps: Parameters<typeof createMcpServer>[0],
): Promise<WorkerOutput["remote"]> {
  const password = "benchmark owner password";
  await setOwnerPassword(input.remoteStateDir, password);
  const probe = await startRemoteServer({
    serverUrl: "http://127.0.0.1:1",
    port: 0,
    stateDir: input.remoteStateDir,
    createMcpServer: () => createMcpServer(deps),
    sendToolNames: SEND_TOOL_NAMES,
    logLevel: "error",
  });
  // The public URL must name the port tokens are bound to: learn a free port, then start for real on it.
  const port = Number(new URL(probe.url).port);
  await probe.close();
  const serverUrl = `http://127.0.0.1:${port}`;
  const remote = await startRemoteServer({
    serverUrl,
    port,
    stateDir: input.remoteStateDir,
    createMcpServer: () => createMcpServer(deps),
    sendToolNames: SEND_TOOL_NAMES,
    logLevel: "error",
  });
  try {
    // A read-only bearer token, obtained the way a native client does (registration, PKCE, the owner
    // approving on the consent form, code exchange).
    const { access_token: token } = await obtainTokens(serverUrl, {
      clientId: await registerClient(serverUrl, { clientName: "Benchmark" }),
      authorize: { scope: "messages:read", resource: `${serverUrl}/mcp`, state: "bench" },
      password,
      access: "read",
    });
    // autocannon runs in its own process: in this one it would share the server's event loop and
    // measure its own CPU cost as server latency.
    const require = createRequire(import.meta.url);
    const cli = require.resolve("autocannon/autocannon.js");
    const body = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: {
        name: "get_recent_messages",
        arguments: { hours: input.recentHours, contact: input.contact, limit: 20 },
      },
    });
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [
          cli,
          "--json",
          "--connections",
          "8",
          "--duration",
          String(input.autocannonSeconds),
          "--method",
          "POST",
          "--headers",
          `authorization=Bearer ${token}`,
          "--headers",
          "content-type=application/json",
          "--headers",
          "accept=application/json, text/event-stream",
          "--body",
          body,
          `${serverUrl}/mcp`,
        ],
        { maxBuffer: 16 * 1024 * 1024 },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      );
    });
    const result = JSON.parse(output) as AutocannonResult;
    return {
      requestsPerSec: result.requests.average,
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
      errors: result.errors,
      non2xx: result.non2xx,
    };
  } finally {
    await remote.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
