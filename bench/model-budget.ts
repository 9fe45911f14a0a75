// What the model reads costs the user tokens: this measures it, the way real clients forward it.
//
// A real MCP client (the SDK client over stdio) starts the real server CLI on a freshly generated demo
// (fixed seed and clock, so every run reads the same rows) and measures:
//   - characters per message of get_recent_messages for one conversation of short texts, in what each kind
//     of client hands its model: Claude Code and VS Code forward JSON.stringify(structuredContent) when a
//     result has structuredContent and drop the text; other clients forward the text content. Budget: 110.
//   - the size of the whole tools/list result (every tool, send tools included). Budget: 16 KB.
//
//   npx tsx bench/model-budget.ts          (also part of `npm run bench`, which calls modelBudget())
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DEFAULT_DEMO_SEED, generateDemo } from "../src/demo/generate.js";
import { openMessagesStore } from "../src/messages/store.js";
import { sourceCli, withStdioSession } from "../test/helpers/stdio-session.js";

const ROOT = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");

export const CHARS_PER_MESSAGE_BUDGET = 110;
export const TOOLS_LIST_BUDGET_BYTES = 16 * 1024;
/** The demo's clock: fixed, so the measured window holds the same messages on every run. */
const DEMO_NOW = new Date("2026-03-02T18:00:00Z");
const PAGE = 50;

/** One tools/call result as a client hands it to its model. */
interface ToolResultLike {
  content?: unknown;
  structuredContent?: unknown;
}

function contentText(result: ToolResultLike): string {
  const blocks = Array.isArray(result.content) ? (result.content as { type: string; text?: string }[]) : [];
  return blocks
    .filter((b) => b.type === "text")
    .map((b) => b.text ?? "")
    .join("\n");
}

/** Claude Code / VS Code: the structured content alone when present, else the text. */
export function forwardedByClaudeCode(result: ToolResultLike): string {
  return result.structuredContent !== undefined
    ? JSON.stringify(result.structuredContent)
    : contentText(result);
}

/** Claude Desktop, Cursor, MCP Inspector and others: the text content. */
export function forwardedAsText(result: ToolResultLike): string {
  return contentText(result);
}

export interface ModelBudget {
  conversation: { chat: string; messages: number };
  charsPerMessage: { claudeCode: number; text: number; worst: number; budget: number; met: boolean };
  toolsList: { bytes: number; tools: number; outputSchemaBytes: number; budget: number; met: boolean };
}

/** The one-to-one chat with the most messages: a conversation of short texts. */
function busiestConversation(chatDb: string): number {
  const store = openMessagesStore(chatDb);
  try {
    const chats = store.listChats({ limit: 500 }).filter((c) => !c.isGroup);
    const busiest = chats.sort((a, b) => b.messageCount - a.messageCount)[0];
    if (!busiest) throw new Error("the demo has no one-to-one chat");
    return busiest.rowid;
  } finally {
    store.close();
  }
}

export async function modelBudget(): Promise<ModelBudget> {
  const dir = mkdtempSync(join(tmpdir(), "model-budget-"));
  try {
    const demo = generateDemo({ dir: join(dir, "demo"), now: DEMO_NOW, seed: DEFAULT_DEMO_SEED });
    const chat = busiestConversation(demo.chatDb);
    const server = {
      ...sourceCli(
        ["--db", demo.chatDb, "--contacts-dir", demo.contactsRoot],
        // Its own state folder, so the schedule tools are listed too (tools/list as a sending user sees it).
        { ...process.env, HOME: dir, MAC_MESSAGES_MCP_HOME: join(dir, "state") } as Record<string, string>,
      ),
      cwd: ROOT,
    };
    // The folder is removed once the server has exited (withStdioSession waits for it).
    return await withStdioSession(server, async ({ client }) => {
      const listed = await client.listTools();
      const toolsBytes = Buffer.byteLength(JSON.stringify(listed));
      const outputSchemaBytes = listed.tools.reduce(
        (sum, tool) => sum + (tool.outputSchema ? Buffer.byteLength(JSON.stringify(tool.outputSchema)) : 0),
        0,
      );
      const hours = Math.ceil((Date.now() - DEMO_NOW.getTime()) / 3_600_000) + 24 * 400;
      const result = (await client.callTool({
        name: "get_recent_messages",
        arguments: { chat: `chat:${chat}`, hours, limit: PAGE },
      })) as ToolResultLike & { isError?: boolean };
      if (result.isError) throw new Error(`get_recent_messages failed: ${contentText(result)}`);
      // The page's size, counted from the rendering itself would be circular: ask the rows' own store.
      const store = openMessagesStore(demo.chatDb);
      const shown = store.getMessages({ chatRowids: [chat], limit: PAGE, order: "desc" }).length;
      store.close();
      const perMessage = (text: string) => Math.round(text.length / shown);
      const claudeCode = perMessage(forwardedByClaudeCode(result));
      const text = perMessage(forwardedAsText(result));
      const worst = Math.max(claudeCode, text);
      return {
        conversation: { chat: `chat:${chat}`, messages: shown },
        charsPerMessage: {
          claudeCode,
          text,
          worst,
          budget: CHARS_PER_MESSAGE_BUDGET,
          met: worst <= CHARS_PER_MESSAGE_BUDGET,
        },
        toolsList: {
          bytes: toolsBytes,
          tools: listed.tools.length,
          outputSchemaBytes,
          budget: TOOLS_LIST_BUDGET_BYTES,
          met: toolsBytes <= TOOLS_LIST_BUDGET_BYTES,
        },
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function modelBudgetTable(b: ModelBudget): string {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  const verdict = (met: boolean) => (met ? "met" : "NOT MET");
  return [
    `What the model reads (demo conversation ${b.conversation.chat}, ${b.conversation.messages} messages, real MCP client over stdio)`,
    "",
    "| measurement | value | budget | |",
    "| --- | ---: | ---: | --- |",
    `| get_recent_messages, chars per message as Claude Code / VS Code forward it | ${b.charsPerMessage.claudeCode} | ≤ ${b.charsPerMessage.budget} | ${verdict(b.charsPerMessage.claudeCode <= b.charsPerMessage.budget)} |`,
    `| get_recent_messages, chars per message as text-forwarding clients get it | ${b.charsPerMessage.text} | ≤ ${b.charsPerMessage.budget} | ${verdict(b.charsPerMessage.text <= b.charsPerMessage.budget)} |`,
    `| tools/list, ${b.toolsList.tools} tools (${kb(b.toolsList.outputSchemaBytes)} of output schemas) | ${kb(b.toolsList.bytes)} | ≤ ${kb(b.toolsList.budget)} | ${verdict(b.toolsList.met)} |`,
  ].join("\n");
}

// Run on its own: `npx tsx bench/model-budget.ts`.
if (process.argv[1] && resolve(process.argv[1]) === resolve(ROOT, "bench", "model-budget.ts")) {
  modelBudget()
    .then((b) => {
      process.stdout.write(`${modelBudgetTable(b)}\n`);
      if (!b.charsPerMessage.met || !b.toolsList.met) process.exitCode = 1;
    })
    .catch((error: unknown) => {
      process.stderr.write(
        `model budget failed: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exit(1);
    });
}
