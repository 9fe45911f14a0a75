// What a tool is: one self-describing value (name, title, description, strict input schema, annotations,
// the permission it needs, handler). Everything around the tools — which ones a server registers (read-only
// mode, remote scopes), the server instructions, the README table, the schema snapshots — is derived from
// these values and the one list in tool-list.ts, never kept by hand.

import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import {
  type CallToolResult,
  type InputRequiredResult,
  isInputRequiredResult,
  type McpServer,
  type ServerContext,
  type ToolAnnotations,
} from "@modelcontextprotocol/server";
import { z } from "zod";
import type { MessageSender } from "../send/index.js";
import type { MessageScheduler } from "../send/scheduler.js";
import type { ServerDeps } from "./core/server-deps.js";
import { formatInput, type ResultFormat, resultInFormat } from "./render-result.js";
import { unknownArgumentsMessage } from "./unknown-arguments.js";

/**
 * What calling a tool needs from the person's grant: "read" reads Messages/Contacts; "send" sends, queues
 * or cancels a message or writes to Contacts (remote mode's messages:send scope, absent in read-only mode).
 */
export type ToolPermission = "read" | "send";

/** What a handler gets besides its arguments. */
export interface ToolCall {
  deps: ServerDeps;
  server: McpServer;
  /** The SDK's per-request context: progress token, cancellation signal, notifications. */
  extra: ServerContext;
  /** The sender; only send tools may use it (they are registered only when there is one). */
  readonly sender: MessageSender;
  /** The scheduler; only tools with `needs: "scheduler"` may use it. */
  readonly scheduler: MessageScheduler;
  /** Whether this server offers the tool named (a view shows a reply box only when send_message is there). */
  offers(toolName: string): boolean;
  /**
   * The form the caller asked for (render-result.ts): only "json" sends the structured data on, so a handler
   * may leave out of it what is costly to read and only the data shows (list_chats' message counts).
   */
  format: ResultFormat;
}

export interface ToolDefinition<Shape extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  /** One or two sentences: what it does and when to use it (the model reads this in every session). */
  description: string;
  /** The arguments; the server refuses any other (see unknown-arguments.ts). */
  inputSchema: Shape;
  /**
   * The shape of the data behind the text (okResult's second argument), which `format: "json"` returns.
   * Not served in tools/list: a declared outputSchema would make Claude Code and VS Code hand their model
   * the unfenced JSON instead of the text (render-result.ts).
   */
  outputSchema?: z.ZodRawShape;
  annotations: ToolAnnotations;
  /** Served as the tool's `_meta` in tools/list (an MCP Apps view: `{ ui: { resourceUri } }`). */
  _meta?: Record<string, unknown>;
  permission: ToolPermission;
  /** A part of the server the tool cannot work without; without it the tool is not offered at all. */
  needs?: "scheduler";
  /** The result, or (send_message with confirm) a question for the person first (elicit.ts). */
  handler: (args: z.infer<z.ZodObject<Shape>>, call: ToolCall) => ToolOutcome | Promise<ToolOutcome>;
}

export type ToolOutcome = CallToolResult | InputRequiredResult;

/** Identity, for type inference: the handler's `args` follow the input schema. */
export function defineTool<Shape extends z.ZodRawShape>(tool: ToolDefinition<Shape>): ToolDefinition<Shape> {
  return tool;
}

/** A tool definition whose argument types no longer matter (lists, registration, docs). */
// biome-ignore lint/suspicious/noExplicitAny: the list holds tools with different argument shapes.
export type AnyToolDefinition = ToolDefinition<any>;

/**
 * The input schema as served: a strict object, so an argument the tool does not know is refused (instead of
 * silently ignored, which once turned {"chat_id": "chat:25"} into "every chat"), with a message that names
 * it and, for names from other Messages servers, says which argument to use here.
 */
const strictSchemas = new WeakMap<AnyToolDefinition, z.ZodObject>();
export function strictInputSchema(tool: AnyToolDefinition): z.ZodObject {
  let schema = strictSchemas.get(tool);
  if (!schema) {
    // Every tool also takes `format` (render-result.ts): "json" for the data instead of the text.
    const shape = { ...tool.inputSchema, format: formatInput };
    const accepted = Object.keys(shape);
    schema = z.strictObject(shape, {
      error: (issue) =>
        issue.code === "unrecognized_keys"
          ? unknownArgumentsMessage(tool.name, issue.keys, accepted)
          : undefined,
    });
    strictSchemas.set(tool, schema);
  }
  return schema;
}

/**
 * The schema with the same validation, served more compactly: tools/list is read by the model in every
 * session (budget 16 KB, bench/model-budget.ts), so its JSON Schema leaves out what tells the model nothing:
 * the `"$schema": "https://json-schema.org/…"` URI the SDK's converter stamps on every tool (MCP already says
 * tool schemas are JSON Schema 2020-12), strings' `maxLength` (caps against abuse, far above anything a model
 * would send; still enforced here, with a plain error), and what is implied (see leftOut). Done here because
 * the SDK has no option for it.
 */
function compactJsonSchema(schema: z.ZodObject, toolName?: string): z.ZodObject {
  const standard = schema["~standard"] as z.ZodObject["~standard"] & {
    jsonSchema: {
      input(options: unknown): Record<string, unknown>;
      output(options: unknown): Record<string, unknown>;
    };
  };
  // What a node says that tells nothing: the URI, string caps, `type` beside an `enum` of strings (the values
  // say it), and the ±2^53−1 bounds zod puts on every integer.
  const leftOut = (node: Record<string, unknown>, key: string, value: unknown) =>
    key === "$schema" ||
    key === "maxLength" ||
    (key === "type" && value === "string" && Array.isArray(node.enum)) ||
    ((key === "maximum" || key === "minimum") && Math.abs(Number(value)) === Number.MAX_SAFE_INTEGER);
  // One schema node without those keys, its subschemas compacted the same way.
  const compact = (node: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries(node)
        .filter(([key, value]) => !leftOut(node, key, value))
        .map(([key, value]) => [key, subschemas(key, value)]),
    );
  const subschemas = (key: string, value: unknown): unknown => {
    const isNode = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object";
    if (key === "properties" && isNode(value)) {
      return Object.fromEntries(Object.entries(value).map(([name, s]) => [name, isNode(s) ? compact(s) : s]));
    }
    if ((key === "items" || key === "additionalProperties") && isNode(value) && !Array.isArray(value)) {
      return compact(value);
    }
    if ((key === "anyOf" || key === "oneOf" || key === "allOf") && Array.isArray(value)) {
      return value.map((s) => (isNode(s) ? compact(s) : s));
    }
    return value;
  };
  const served = Object.create(schema) as z.ZodObject;
  Object.defineProperty(served, "~standard", {
    value: {
      ...standard,
      jsonSchema: {
        input: (options: unknown) =>
          (toolName === undefined ? undefined : builtInputSchema(toolName, options)) ??
          compact(standard.jsonSchema.input(options)),
        output: (options: unknown) => compact(standard.jsonSchema.output(options)),
      },
    },
  });
  return served;
}

/**
 * Each tool's input schema as tools/list serves it, computed from the definitions by `npm run build`
 * (scripts/build-cli.mjs) and written beside the compiled module: converting the zod schemas was about 5 %
 * of start-up. Used only for the conversion options it was computed with; from source (tsx), and for any
 * other options, the schemas are converted as they are asked for.
 */
export const BUILT_INPUT_SCHEMAS_FILE = "tool-input-schemas.json";

/** What that file holds: the options the SDK converts with, and each tool's schema for them. */
export interface BuiltInputSchemas {
  options: unknown;
  tools: Record<string, Record<string, unknown>>;
}

let builtSchemas: BuiltInputSchemas | null | undefined;

function builtInputSchema(toolName: string, options: unknown): Record<string, unknown> | undefined {
  if (builtSchemas === undefined) {
    try {
      const file = new URL(BUILT_INPUT_SCHEMAS_FILE, import.meta.url);
      builtSchemas = JSON.parse(readFileSync(file, "utf8")) as BuiltInputSchemas;
    } catch {
      builtSchemas = null;
    }
  }
  if (!builtSchemas || !isDeepStrictEqual(builtSchemas.options, options)) return undefined;
  const schema = builtSchemas.tools[toolName];
  // A copy: the SDK may add to what it is given.
  return schema ? structuredClone(schema) : undefined;
}

/** Every tool's served input schema for `options`, converted now: what the build writes to that file. */
export function convertInputSchemas(
  tools: readonly AnyToolDefinition[],
  options: unknown,
): BuiltInputSchemas {
  const convert = (tool: AnyToolDefinition) => {
    const standard = compactJsonSchema(strictInputSchema(tool))["~standard"] as unknown as {
      jsonSchema: { input(options: unknown): Record<string, unknown> };
    };
    return standard.jsonSchema.input(options);
  };
  return { options, tools: Object.fromEntries(tools.map((tool) => [tool.name, convert(tool)])) };
}

function missing(what: string, tool: string): never {
  throw new Error(`${tool} needs the ${what}, but this server has none (a registration bug)`);
}

/** Registers `tool` on `server`, its handler running over `deps`; `offered`: every tool this server has. */
export function registerTool(
  server: McpServer,
  tool: AnyToolDefinition,
  deps: ServerDeps,
  offered: ReadonlySet<string> = new Set([tool.name]),
): void {
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: compactJsonSchema(strictInputSchema(tool), tool.name),
      annotations: tool.annotations,
      ...(tool._meta ? { _meta: tool._meta } : {}),
    },
    async (args: Record<string, unknown>, extra: ServerContext) => {
      const { format, ...toolArgs } = args;
      const result = await tool.handler(toolArgs, {
        deps,
        server,
        extra,
        get sender() {
          return deps.sender ?? missing("message sender", tool.name);
        },
        get scheduler() {
          return deps.scheduler ?? missing("scheduler", tool.name);
        },
        offers: (name) => offered.has(name),
        format: format as ResultFormat,
      });
      if (isInputRequiredResult(result)) return result;
      return resultInFormat(result, format as ResultFormat);
    },
  );
}

/** Registers each of `tools` on `server` over `deps`. */
export function registerTools(
  server: McpServer,
  tools: readonly AnyToolDefinition[],
  deps: ServerDeps,
): void {
  const offered = new Set(tools.map((tool) => tool.name));
  for (const tool of tools) registerTool(server, tool, deps, offered);
}
