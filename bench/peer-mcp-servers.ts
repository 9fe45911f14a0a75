// MCP servers side by side over stdio, the way a client runs them: this project's built CLI and a peer
// server on the same chat.db, the same questions asked alternately so both see the same machine load.
// Times start-up to `tools/list`, then each call's round trip, and counts the characters each answer hands
// a model (what Claude Code forwards: the structured content when there is one, otherwise the text).
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { type Stats, stats } from "./stats.js";

export interface StdioServer {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** One question, phrased for each server's own tool. */
export interface PairedCall {
  label: string;
  ours: { name: string; arguments: Record<string, unknown> };
  theirs: { name: string; arguments: Record<string, unknown> };
}

export interface ServerTimings {
  startup: Stats;
  calls: Record<string, { wall: Stats; modelChars: number }>;
}

type CallResult = {
  content?: { type: string; text?: string }[];
  structuredContent?: unknown;
  isError?: boolean;
};

/** What Claude Code hands its model for a tool result: structuredContent wins when present. */
function modelChars(result: CallResult): number {
  if (result.structuredContent !== undefined) return JSON.stringify(result.structuredContent).length;
  return (result.content ?? []).reduce((n, c) => n + (c.text?.length ?? 0), 0);
}

async function connect(server: StdioServer): Promise<{ client: Client; ms: number }> {
  const start = performance.now();
  const transport = new StdioClientTransport({ ...server, stderr: "ignore" });
  const client = new Client({ name: "bench-peers", version: "1.0.0" });
  await client.connect(transport);
  await client.listTools();
  return { client, ms: performance.now() - start };
}

/**
 * Start-up `startups` times each (alternating), then one session per server in which every call is asked
 * `reps` times, alternating ours and theirs call by call. A call that answers with an error fails the run:
 * a fast error is not a result.
 */
export async function compareOverStdio(options: {
  ours: StdioServer;
  theirs: StdioServer;
  calls: PairedCall[];
  reps: number;
  startups: number;
}): Promise<{ ours: ServerTimings; theirs: ServerTimings }> {
  const startups = { ours: [] as number[], theirs: [] as number[] };
  for (let i = 0; i < options.startups; i++) {
    for (const side of ["ours", "theirs"] as const) {
      const { client, ms } = await connect(options[side]);
      startups[side].push(ms);
      await client.close();
    }
  }
  const sessions = { ours: await connect(options.ours), theirs: await connect(options.theirs) };
  const samples = { ours: {} as Record<string, number[]>, theirs: {} as Record<string, number[]> };
  const chars = { ours: {} as Record<string, number>, theirs: {} as Record<string, number> };
  try {
    for (const call of options.calls) {
      for (const side of ["ours", "theirs"] as const) {
        const ask = async () => {
          const result = (await sessions[side].client.callTool(call[side])) as CallResult;
          if (result.isError) {
            const text = JSON.stringify(result.content).slice(0, 300);
            throw new Error(`${side} ${call[side].name} answered with an error: ${text}`);
          }
          return result;
        };
        chars[side][call.label] = modelChars(await ask()); // warm-up, and the size a model reads
        samples[side][call.label] = [];
      }
      for (let i = 0; i < options.reps; i++) {
        for (const side of ["ours", "theirs"] as const) {
          const start = performance.now();
          await sessions[side].client.callTool(call[side]);
          samples[side][call.label]?.push(performance.now() - start);
        }
      }
    }
  } finally {
    await sessions.ours.client.close();
    await sessions.theirs.client.close();
  }
  const timings = (side: "ours" | "theirs"): ServerTimings => ({
    startup: stats(startups[side]),
    calls: Object.fromEntries(
      options.calls.map((c) => [
        c.label,
        { wall: stats(samples[side][c.label] ?? []), modelChars: chars[side][c.label] ?? 0 },
      ]),
    ),
  });
  return { ours: timings("ours"), theirs: timings("theirs") };
}
