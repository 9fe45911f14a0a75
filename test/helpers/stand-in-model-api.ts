// A stand-in for the Anthropic Messages API on 127.0.0.1, for running the real Claude Code CLI against it
// (ANTHROPIC_BASE_URL). It plays a model that makes exactly one tool call: when a request offers the tool
// the test named, it answers with a streamed `tool_use` block; when Claude Code sends back the matching
// `tool_result`, it records that block — exactly what a model would read — and ends the turn. Any other
// request (Claude Code's own side requests) gets a short text answer. Hand-written because no library
// plays the model side of the Messages API; the event sequence follows Anthropic's streaming docs.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/** A content block in a tool_result, as the model would receive it. */
export type ModelContentBlock =
  | { type: "text"; text: string }
  | { type: "image"; source: { type: "base64"; media_type: string; data: string } }
  | { type: string; [key: string]: unknown };

export interface ToolResultBlock {
  type: "tool_result";
  tool_use_id: string;
  content: string | ModelContentBlock[];
  is_error?: boolean;
}

interface MessagesRequest {
  model?: string;
  stream?: boolean;
  tools?: { name?: string }[];
  messages?: { role: string; content: string | { type: string; [key: string]: unknown }[] }[];
}

export interface StandInModelApi {
  url: string;
  /** The tool_result Claude Code sent back for our tool call (undefined until it did). */
  toolResult(): ToolResultBlock | undefined;
  /** Tool names offered in the last request that offered any (to explain a tool that never appeared). */
  offeredTools(): string[];
  requestCount(): number;
  close(): Promise<void>;
}

const TOOL_USE_ID = "toolu_stand_in_01";

function sse(res: ServerResponse, events: Record<string, unknown>[]): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const event of events) res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  res.end();
}

function assistantMessage(model: string, counter: number) {
  return {
    id: `msg_stand_in_${counter}`,
    type: "message",
    role: "assistant",
    model,
    content: [] as unknown[],
    stop_reason: null as string | null,
    stop_sequence: null,
    usage: { input_tokens: 1, output_tokens: 1 },
  };
}

function reply(
  res: ServerResponse,
  request: MessagesRequest,
  counter: number,
  block: { type: "text"; text: string } | { type: "tool_use"; name: string; input: unknown },
): void {
  const model = request.model ?? "claude-stand-in";
  const stopReason = block.type === "tool_use" ? "tool_use" : "end_turn";
  if (!request.stream) {
    const message = assistantMessage(model, counter);
    message.content = [block.type === "tool_use" ? { ...block, id: TOOL_USE_ID } : block];
    message.stop_reason = stopReason;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(message));
    return;
  }
  const [start, delta] =
    block.type === "tool_use"
      ? [
          { type: "tool_use", id: TOOL_USE_ID, name: block.name, input: {} },
          { type: "input_json_delta", partial_json: JSON.stringify(block.input) },
        ]
      : [
          { type: "text", text: "" },
          { type: "text_delta", text: block.text },
        ];
  sse(res, [
    { type: "message_start", message: assistantMessage(model, counter) },
    { type: "content_block_start", index: 0, content_block: start },
    { type: "content_block_delta", index: 0, delta },
    { type: "content_block_stop", index: 0 },
    {
      type: "message_delta",
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: 1 },
    },
    { type: "message_stop" },
  ]);
}

function findToolResult(request: MessagesRequest): ToolResultBlock | undefined {
  for (const message of request.messages ?? []) {
    if (message.role !== "user" || !Array.isArray(message.content)) continue;
    for (const block of message.content) {
      if (block.type === "tool_result" && block.tool_use_id === TOOL_USE_ID) {
        return block as unknown as ToolResultBlock;
      }
    }
  }
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Starts the stand-in; `call.tool` is the name Claude Code gives the model (e.g. mcp__messages__list_chats).
 * Without `call` it only ends every turn (for `claude mcp …` commands, which must not reach the internet).
 */
export async function startStandInModelApi(call?: {
  tool: string;
  input: unknown;
}): Promise<StandInModelApi> {
  let counter = 0;
  let asked = false;
  let recorded: ToolResultBlock | undefined;
  let offered: string[] = [];

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      counter++;
      const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
      if (req.method === "POST" && path === "/v1/messages/count_tokens") {
        res.writeHead(200, { "content-type": "application/json" }).end('{"input_tokens":1}');
        return;
      }
      if (req.method !== "POST" || path !== "/v1/messages") {
        res
          .writeHead(404, { "content-type": "application/json" })
          .end('{"type":"error","error":{"type":"not_found_error","message":"not served by the stand-in"}}');
        return;
      }
      const request = JSON.parse(body) as MessagesRequest;
      const tools = (request.tools ?? []).map((tool) => tool.name ?? "");
      if (tools.length > 0) offered = tools;
      const result = findToolResult(request);
      if (result) {
        recorded ??= result;
        reply(res, request, counter, { type: "text", text: "Done." });
      } else if (call && !asked && tools.includes(call.tool)) {
        asked = true;
        reply(res, request, counter, { type: "tool_use", name: call.tool, input: call.input });
      } else {
        reply(res, request, counter, { type: "text", text: "Done." });
      }
    })().catch((error: unknown) => {
      res.writeHead(500, { "content-type": "application/json" }).end(
        JSON.stringify({
          type: "error",
          error: { type: "api_error", message: `stand-in failed: ${String(error)}` },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    toolResult: () => recorded,
    offeredTools: () => offered,
    requestCount: () => counter,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
