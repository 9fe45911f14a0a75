// The server under load, in its own process (run with --expose-gc) so its memory can be measured apart
// from the load generator's. Real MCP server over a real chat.db behind the real remote server. Talks to
// the parent over IPC: "ready" with its URL; answers "stats" (after forced GC) and "stop".
import { ContactsStore } from "../../../src/contacts/index.js";
import { createMcpServer } from "../../../src/mcp/index.js";
import { openMessagesStore } from "../../../src/messages/index.js";
import { makeStateDir, startTestRemote } from "../../helpers/remote-fixtures.js";
import { buildHostileChatDb } from "../../helpers/security-remote.js";

export interface ServerStats {
  rssBytes: number;
  heapUsedBytes: number;
  activeSseSessions: number;
  /** Timers, sockets and the like keeping the event loop alive, by type. */
  activeResources: Record<string, number>;
  errorLogLines: number;
  status5xx: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run the load server with --expose-gc");

const db = buildHostileChatDb(2000);
const state = await makeStateDir();
const messages = openMessagesStore(db.chatDb);
const contacts = ContactsStore.empty("No Contacts in the load test.");
const remote = await startTestRemote(state.dir, {
  createMcpServer: () => createMcpServer({ messages, contacts, sender: null }),
  sendToolNames: [],
  logLevel: "warn",
  sseKeepAliveMs: 1000,
});
let errorLogLines = 0;
let status5xx = 0;
// startTestRemote collects log lines in memory: count what matters and drop the rest to keep memory flat.
const logs = remote.logs;
logs.push = (...lines: string[]) => {
  for (const line of lines) {
    if (/ ERROR /.test(line)) errorLogLines++;
    if (/ 5\d\d \d+ms/.test(line)) status5xx++;
  }
  return 0;
};

async function stats(): Promise<ServerStats> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const health = (await (await fetch(`${remote.serverUrl}/health`)).json()) as { activeSseSessions: number };
  const activeResources: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo())
    activeResources[type] = (activeResources[type] ?? 0) + 1;
  const memory = process.memoryUsage();
  return {
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    activeSseSessions: health.activeSseSessions,
    activeResources,
    errorLogLines,
    status5xx,
  };
}

process.on("message", (message: { type: string }) => {
  if (message.type === "stats") {
    void stats().then((s) => process.send!({ type: "stats", stats: s }));
  } else if (message.type === "stop") {
    void remote.close().then(() => {
      messages.close();
      db.cleanup();
      state.cleanup();
      process.exit(0);
    });
  }
});
process.send!({ type: "ready", serverUrl: remote.serverUrl });
