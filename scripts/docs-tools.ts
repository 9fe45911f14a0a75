// npm run docs:tools — rewrites the generated tool table in README.md from the tool list.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { withToolTable } from "../src/mcp/tool-docs.js";
import { TOOLS } from "../src/mcp/tool-list.js";

const readmePath = resolve(import.meta.dirname, "..", "README.md");
const before = readFileSync(readmePath, "utf8");
const after = withToolTable(before, TOOLS);
if (after === before) {
  process.stdout.write("README.md tool table is up to date.\n");
} else {
  writeFileSync(readmePath, after);
  process.stdout.write("README.md tool table rewritten.\n");
}
