// The stdio wire under the SDK's serveStdio, with two limits its own StdioServerTransport lacks:
//  - A frame (one line of JSON-RPC) larger than MAX_FRAME_BYTES ends the SDK transport's session without a
//    word to the client. Here the oversized line is skipped as it streams in (never held in memory), the
//    client gets a JSON-RPC error for it (with its id when one can be read from the line's start), and the
//    session goes on.
//  - A client that never reads stdout made the server buffer answers until it died at 4 GB. Here reading
//    stops while stdout is congested (its buffer past the high-water mark) or too many requests are
//    unanswered, and resumes when the client catches up; unread requests wait in the client's pipe, not in
//    our memory. Notifications (progress, resource updates) past a hard cap of buffered output are dropped
//    rather than queued without bound; answers are never dropped.
// It is a Transport handed to serveStdio({ transport }), so everything above the wire stays the SDK's.
import {
  deserializeMessage,
  type JSONRPCMessage,
  serializeMessage,
  type Transport,
} from "@modelcontextprotocol/server";

/** Largest accepted frame: the SDK's own default, so well-behaved clients see no difference. */
export const MAX_FRAME_BYTES = 10 * 1024 * 1024;
/** Requests read but not yet answered before reading pauses (each may produce a large answer). */
export const MAX_UNANSWERED = 32;
/** Buffered stdout beyond which notifications are dropped (answers still go, and reading is paused anyway). */
export const MAX_BUFFERED_OUTPUT_BYTES = 64 * 1024 * 1024;
/**
 * Which kind a message is, told by its keys: what comes in was checked whole by deserializeMessage, what goes
 * out was built by the SDK. Not the SDK's isJSONRPCRequest / isJSONRPCResponse: each parses the whole message
 * again with zod, an answer's page of text included (about 0.05 ms of a page's 4 to 5, sampled).
 */
function isRequest(
  message: JSONRPCMessage,
): message is Extract<JSONRPCMessage, { method: string; id: unknown }> {
  return "method" in message && "id" in message;
}

/** JSON-RPC "Invalid Request". */
const INVALID_REQUEST = -32600;

export interface BoundedStdioOptions {
  stdin?: NodeJS.ReadableStream & { pause(): unknown; resume(): unknown; isPaused(): boolean };
  stdout?: NodeJS.WritableStream & { writableLength: number; writableNeedDrain: boolean };
  maxFrameBytes?: number;
  maxUnanswered?: number;
  maxBufferedOutputBytes?: number;
  /** Told about skipped frames and dropped notifications (stderr in the CLI). */
  warn?: (message: string) => void;
  /** Called once each answer to a tools/call request has been written. */
  toolCallAnswered?: () => void;
}

/** The id of a request from the first bytes of its line, if it can be read there (`"id": 12` / `"id":"a"`). */
function idFromPrefix(prefix: string): string | number | null {
  const match = /"id"\s*:\s*(-?\d{1,15}|"(?:[^"\\]|\\.){0,200}")/.exec(prefix);
  if (!match?.[1]) return null;
  try {
    return JSON.parse(match[1]) as string | number;
  } catch {
    return null;
  }
}

export class BoundedStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #stdin: NonNullable<BoundedStdioOptions["stdin"]>;
  readonly #stdout: NonNullable<BoundedStdioOptions["stdout"]>;
  readonly #maxFrame: number;
  readonly #maxUnanswered: number;
  readonly #maxBuffered: number;
  readonly #warn: (message: string) => void;
  readonly #toolCallAnswered: (() => void) | undefined;
  /** Bytes of the current line so far (only while it is within the limit). */
  #chunks: Buffer[] = [];
  #length = 0;
  /** Set while skipping an oversized line: its first bytes (for the id) and its size so far. */
  #skipping: { prefix: string; bytes: number } | null = null;
  /** Ids of requests handed on and not yet answered. */
  readonly #unanswered = new Set<string | number>();
  /** Those of them that are tools/call requests (only when someone is told of their answers). */
  readonly #toolCalls = new Set<string | number>();
  #closed = false;
  #droppedNotifications = 0;

  constructor(options: BoundedStdioOptions = {}) {
    this.#stdin = options.stdin ?? (process.stdin as NonNullable<BoundedStdioOptions["stdin"]>);
    this.#stdout = options.stdout ?? process.stdout;
    this.#maxFrame = options.maxFrameBytes ?? MAX_FRAME_BYTES;
    this.#maxUnanswered = options.maxUnanswered ?? MAX_UNANSWERED;
    this.#maxBuffered = options.maxBufferedOutputBytes ?? MAX_BUFFERED_OUTPUT_BYTES;
    this.#warn = options.warn ?? ((message) => process.stderr.write(`mac-messages-mcp: ${message}\n`));
    this.#toolCallAnswered = options.toolCallAnswered;
  }

  async start(): Promise<void> {
    this.#stdin.on("data", this.#onData);
    this.#stdin.on("end", this.#onEnd);
    this.#stdin.on("close", this.#onEnd);
    this.#stdin.on("error", this.#onError);
    this.#stdout.on("error", this.#onError);
    this.#stdout.on("drain", this.#onDrain);
  }

  #onError = (error: Error) => {
    this.onerror?.(error);
  };

  #onEnd = () => {
    void this.close();
  };

  /** Read but not yet split into lines: at most one chunk, since reading pauses while it is kept. */
  #pending: Buffer | null = null;

  #onData = (chunk: Buffer | string) => {
    const data = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    this.#pending = this.#pending ? Buffer.concat([this.#pending, data]) : data;
    this.#pump();
  };

  #congested(): boolean {
    return this.#stdout.writableNeedDrain || this.#unanswered.size >= this.#maxUnanswered;
  }

  /** Hands on complete lines while the client keeps up; the rest waits (and stdin stays paused). */
  #pump(): void {
    while (this.#pending && !this.#closed && !this.#congested()) {
      const data: Buffer = this.#pending;
      const newline = data.indexOf(0x0a);
      if (newline === -1) {
        this.#take(data);
        this.#pending = null;
        break;
      }
      this.#take(data.subarray(0, newline));
      this.#pending = newline + 1 < data.length ? data.subarray(newline + 1) : null;
      this.#endOfLine();
    }
    this.#updateFlow();
  }

  /** Adds part of a line, switching to skipping once the line passes the limit. */
  #take(piece: Buffer): void {
    if (this.#skipping) {
      this.#skipping.bytes += piece.length;
      return;
    }
    if (this.#length + piece.length > this.#maxFrame) {
      const head = Buffer.concat([...this.#chunks, piece.subarray(0, 4096)]).subarray(0, 4096);
      this.#skipping = { prefix: head.toString("utf8"), bytes: this.#length + piece.length };
      this.#chunks = [];
      this.#length = 0;
      return;
    }
    this.#chunks.push(piece);
    this.#length += piece.length;
  }

  #endOfLine(): void {
    if (this.#skipping) {
      const { prefix, bytes } = this.#skipping;
      this.#skipping = null;
      const id = idFromPrefix(prefix);
      const limitMiB = (this.#maxFrame / 1024 / 1024).toFixed(0);
      this.#warn(`skipped a message of ${bytes} bytes from the client (limit ${limitMiB} MiB)`);
      // Without an id the client cannot tie the error to its request, but it still learns what happened.
      this.#write({
        jsonrpc: "2.0",
        id: id as string | number,
        error: {
          code: INVALID_REQUEST,
          message: `Message too large: ${bytes} bytes; the limit is ${limitMiB} MiB. It was not processed.`,
        },
      } as JSONRPCMessage);
      return;
    }
    const line = Buffer.concat(this.#chunks).toString("utf8").replace(/\r$/, "");
    this.#chunks = [];
    this.#length = 0;
    if (line.trim() === "") return;
    let message: JSONRPCMessage;
    try {
      message = deserializeMessage(line);
    } catch (error) {
      this.onerror?.(new Error(`unreadable message from the client: ${(error as Error).message}`));
      return;
    }
    if (isRequest(message)) {
      this.#unanswered.add(message.id);
      if (this.#toolCallAnswered && message.method === "tools/call") this.#toolCalls.add(message.id);
    }
    this.onmessage?.(message);
  }

  #onDrain = () => {
    this.#pump();
  };

  /** Pauses reading while answers pile up or lines wait; resumes once the client reads and answers go out. */
  #updateFlow(): void {
    if (this.#closed) return;
    const hold = this.#congested() || this.#pending !== null;
    if (hold && !this.#stdin.isPaused()) this.#stdin.pause();
    else if (!hold && this.#stdin.isPaused()) this.#stdin.resume();
  }

  #write(message: JSONRPCMessage): boolean {
    return this.#stdout.write(serializeMessage(message));
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw new Error("the stdio connection is closed");
    const isAnswer = !("method" in message);
    if (!isAnswer && !isRequest(message) && this.#stdout.writableLength > this.#maxBuffered) {
      // A notification nobody is reading: keep memory bounded; say so once per congestion.
      if (this.#droppedNotifications++ === 0) {
        this.#warn("the client is not reading; notifications are dropped until it catches up");
      }
      return;
    }
    if (this.#stdout.writableLength <= this.#maxBuffered) this.#droppedNotifications = 0;
    const answered = isAnswer && "id" in message && this.#unanswered.delete(message.id as string | number);
    this.#write(message);
    if (answered && this.#toolCalls.delete(message.id as string | number)) this.#toolCallAnswered?.();
    if (answered) this.#pump();
    else this.#updateFlow();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stdin.off("data", this.#onData);
    this.#stdin.off("end", this.#onEnd);
    this.#stdin.off("close", this.#onEnd);
    this.#stdin.off("error", this.#onError);
    this.#stdout.off("drain", this.#onDrain);
    this.#chunks = [];
    this.#pending = null;
    this.onclose?.();
  }
}
