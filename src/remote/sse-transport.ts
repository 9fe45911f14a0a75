// The legacy HTTP+SSE transport (protocol 2024-11-05) for clients that still only speak it: GET /sse opens
// an event stream whose first event names where to POST, and every JSON-RPC answer travels back on that
// stream. Hand-written because MCP SDK v2 ships no SSE *server* transport; its only offer is the frozen v1
// copy in @modelcontextprotocol/server-legacy, which is deprecated, pins its own copy of the SDK core and
// drags in the v1 authorization-server code. The protocol side is tiny (one stream, one POST endpoint), so
// this implements just the SDK's public Transport interface and leaves sessions/auth to src/remote/server.ts.
import { randomUUID } from "node:crypto";
import type { AuthInfo, JSONRPCMessage, Transport } from "@modelcontextprotocol/server";
import { parseJSONRPCMessage } from "@modelcontextprotocol/server";
import type { Response } from "express";

export class SseServerTransport implements Transport {
  readonly sessionId = randomUUID();
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: { authInfo?: AuthInfo }) => void;
  #closed = false;

  /** `endpoint` is the path clients POST to; the session id is appended as `?sessionId=`. */
  constructor(
    private readonly endpoint: string,
    private readonly res: Response,
  ) {}

  async start(): Promise<void> {
    this.res.writeHead(200, {
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
    });
    this.res.write(`event: endpoint\ndata: ${this.endpoint}?sessionId=${this.sessionId}\n\n`);
    this.res.on("close", () => this.#markClosed());
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed || this.res.writableEnded) throw new Error("The SSE stream is closed");
    this.res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }

  async close(): Promise<void> {
    if (!this.res.writableEnded) this.res.end();
    this.#markClosed();
  }

  /**
   * Hands one POSTed JSON-RPC message (already parsed by express.json) to the server. Returns an error
   * text for the HTTP 400 answer when the body is not a JSON-RPC message, otherwise undefined (202).
   */
  receive(body: unknown, authInfo: AuthInfo): string | undefined {
    if (this.#closed) return "The SSE stream of this session is closed; reconnect to /sse";
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(body);
    } catch {
      return "The body is not a JSON-RPC message";
    }
    this.onmessage?.(message, { authInfo });
    return undefined;
  }

  #markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onclose?.();
  }
}
