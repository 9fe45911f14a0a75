// One result, model-ready in every client.
//
// Clients forward tool results to their model differently: Claude Code and VS Code hand it
// JSON.stringify(structuredContent) alone whenever a result has structuredContent (the text content never
// reaches the model); Claude Desktop, Cursor, MCP Inspector and others forward the text content. So by
// default a tool returns text only — the compact rendering with other people's words fenced — and declares
// no outputSchema: whatever a client forwards, its model reads that one rendering. Programs that want the
// full data ask for it with `format: "json"`: the same result as JSON, in the text and as structuredContent
// (unfenced: a program, not a model, is expected to read it). Handlers return both forms (okResult); the
// registration (tool-definition.ts) adds `format` to every tool and keeps the one asked for, so no tool
// handles it itself. docs/what-the-model-sees.md says the same for users.
import type { CallToolResult } from "@modelcontextprotocol/server";
import { z } from "zod";
import { setOwn } from "../util/set-own.js";
import { capText, JSON_FIELD_CAP, JSON_TEXT_CAP } from "./render-truncate.js";

/**
 * Every tool's `format` argument. Undescribed on purpose: it appears in every tool of tools/list, which
 * every session pays for; the server instructions say once what "json" is for.
 */
export const formatInput = z.enum(["text", "json"]).optional();

/** The sentence of the server instructions that explains `format`. */
export const FORMAT_INSTRUCTIONS =
  'Results are compact text for you; format "json" returns the full data, for programs only.';

export type ResultFormat = z.infer<typeof formatInput>;

/** Fields holding what people wrote (message text, edit history, a file's text): kept long in JSON. */
const LONG_FIELDS = new Set(["text", "lastMessagePreview"]);

/**
 * Every string in `value` (objects and arrays walked) cut with a visible marker: message text at
 * JSON_TEXT_CAP, every other field (names, file names, paths) at JSON_FIELD_CAP. JSON output is for
 * programs, but a 10 MB message or a 1 MB group name repeated on every message still must not make a
 * result of tens of megabytes.
 */
export function capStrings<T>(value: T, key = ""): T {
  if (typeof value === "string") {
    return capText(value, LONG_FIELDS.has(key) ? JSON_TEXT_CAP : JSON_FIELD_CAP) as T;
  }
  if (Array.isArray(value)) return value.map((item) => capStrings(item, key)) as T;
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    // A loop over the keys, not Object.fromEntries(Object.entries(…).map(…)): three arrays per object made
    // this most of a JSON result's cost (0.9 ms for list_chats' 47 KB at 1M).
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) setOwn(out, k, capStrings((value as Record<string, unknown>)[k], k));
    return out as T;
  }
  return value;
}

/**
 * A handler's result as the caller asked for it. Handlers return both forms (okResult: the text for a
 * model and the data behind it); by default only the text goes out, and with `format: "json"` the data,
 * capped, as JSON text and structuredContent. Other blocks (get_attachment's image) go out either way;
 * errors are passed through unchanged.
 */
export function resultInFormat(result: CallToolResult, format: ResultFormat): CallToolResult {
  if (result.isError) return result;
  const { structuredContent, ...rest } = result;
  if (format !== "json" || structuredContent === undefined) return rest;
  const data = capStrings(structuredContent);
  const others = result.content.filter((block) => block.type !== "text");
  return {
    ...rest,
    content: [{ type: "text", text: JSON.stringify(data) }, ...others],
    structuredContent: data,
  };
}
