#!/usr/bin/env node
// Part of `npm run build`, after tsc: writes the MCP Apps conversation view as the one self-contained HTML
// document the package ships (dist/src/mcp/apps/conversation-view.html), assembled by the compiled module
// from src/mcp/apps/view/ so the build and a checkout under tsx serve the same bytes.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const { assembleConversationView, BUILT_VIEW_FILE } = await import(
  join(ROOT, "dist", "src", "mcp", "apps", "conversation-view.js")
);
const out = join(ROOT, "dist", "src", "mcp", "apps", BUILT_VIEW_FILE);
writeFileSync(out, assembleConversationView());
process.stdout.write(`conversation view: ${out}\n`);
