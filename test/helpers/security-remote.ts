// Set-up shared by the security, fault and load tests: a chat.db holding hostile-looking text, the real
// MCP server over the real stores behind the real remote server, a fake osascript at the end of PATH,
// and helpers to talk MCP over HTTP (tokens come from remote-oauth-http.ts).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContactsStore } from "../../src/contacts/index.js";
import { ChatDbWriter } from "../../src/demo/index.js";
import { createMcpServer, SEND_TOOL_NAMES } from "../../src/mcp/index.js";
import { openMessagesStore } from "../../src/messages/index.js";
import type { RemoteServerOptions } from "../../src/remote/index.js";
import { MessageSender } from "../../src/send/index.js";
import { type FakeOsascript, installFakeOsascript } from "./fake-osascript.js";
import { makeStateDir, startTestRemote, type TestRemote } from "./remote-fixtures.js";

export const PEER = "+15550142001";

/** Texts a search must find literally: SQL wildcards and metacharacters are data, never syntax. */
export const LITERAL_TEXTS = {
  percent: "Spring sale: 50% off everything",
  nearPercent: "Spring sale: 500 off everything",
  underscore: "file name is a_b.txt",
  nearUnderscore: "file name is axb.txt",
  sql: `O'Reilly said "hi"; DROP TABLE message;--`,
  applescript: `" & (do shell script "touch /tmp/pwned") & " \\ end tell`,
} as const;

/** A small chat.db (Apple's schema, WAL mode like the real one) with one chat and the texts above. */
export function buildHostileChatDb(extraMessages = 0): {
  dir: string;
  chatDb: string;
  chatRowid: number;
  handleRowid: number;
  cleanup(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), "mmcp-security-"));
  const chatDb = join(dir, "Messages", "chat.db");
  const writer = new ChatDbWriter(chatDb);
  const handle = writer.addHandle({ id: PEER, service: "iMessage" });
  const chat = writer.addChat({
    identifier: PEER,
    service: "iMessage",
    isGroup: false,
    participants: [handle],
  });
  const now = Date.now();
  const texts: string[] = [...Object.values(LITERAL_TEXTS)];
  for (let i = 0; i < extraMessages; i++) texts.push(`filler message number ${i}`);
  texts.forEach((text, index) => {
    writer.addMessage({
      chatRowid: chat,
      handleRowid: handle,
      text,
      date: new Date(now - (texts.length - index) * 60_000),
      isFromMe: index % 2 === 0,
      isRead: true,
      service: "iMessage",
    });
  });
  writer.close();
  return {
    dir,
    chatDb,
    chatRowid: chat,
    handleRowid: handle,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface RealRemote {
  remote: TestRemote;
  serverUrl: string;
  stateDir: string;
  chatDb: string;
  fake: FakeOsascript;
  close(): Promise<void>;
}

/** The real MCP server (all tools, sending through the fake osascript) behind startRemoteServer. */
export async function startRealRemote(
  options: { extra?: Partial<RemoteServerOptions>; osascriptTimeoutMs?: number; chatDb?: string } = {},
): Promise<RealRemote> {
  const state = await makeStateDir();
  const db = options.chatDb === undefined ? buildHostileChatDb() : undefined;
  const chatDb = options.chatDb ?? db!.chatDb;
  const fake = await installFakeOsascript();
  const messages = openMessagesStore(chatDb);
  const contacts = ContactsStore.empty("No Contacts in this test.");
  const sender = new MessageSender({ env: fake.env, timeoutMs: options.osascriptTimeoutMs ?? 5_000 });
  const remote = await startTestRemote(state.dir, {
    createMcpServer: () => createMcpServer({ messages, contacts, sender }),
    sendToolNames: SEND_TOOL_NAMES,
    ...options.extra,
  });
  return {
    remote,
    serverUrl: remote.serverUrl,
    stateDir: state.dir,
    chatDb,
    fake,
    async close() {
      await remote.close();
      messages.close();
      await fake.cleanup();
      db?.cleanup();
      state.cleanup();
    },
  };
}

/** Headers of an authenticated Streamable HTTP request. */
export function mcpHeaders(accessToken: string): Record<string, string> {
  return {
    authorization: `Bearer ${accessToken}`,
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  };
}

/** Reads a Streamable HTTP answer, which is JSON or a one-event SSE stream depending on the server. */
export async function readMcpAnswer(res: Response): Promise<{ status: number; text: string; json: unknown }> {
  const text = await res.text();
  let json: unknown;
  const type = res.headers.get("content-type") ?? "";
  try {
    if (type.includes("text/event-stream")) {
      const data = text
        .split("\n")
        .filter((line) => line.startsWith("data: "))
        .map((line) => line.slice(6));
      json = data.length === 1 ? JSON.parse(data[0]!) : data.map((d) => JSON.parse(d));
    } else if (text.length > 0) {
      json = JSON.parse(text);
    }
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/** Lines of a stack trace, or an internal path, that must never reach an HTTP client. */
export const STACK_TRACE = /\bat [\w.<>]+ \(|node_modules|\/src\/[\w/]+\.ts|\.js:\d+:\d+/;
