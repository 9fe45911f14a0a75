// The real Apple schemas, embedded as .sql files next to this module (copied verbatim from the test fixtures).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export type SchemaName = "chat" | "chat-macos26-additions" | "addressbook";

const schemaFiles: Record<SchemaName, string> = {
  chat: "chat_schema.sql",
  "chat-macos26-additions": "chat_schema_macos26_additions.sql",
  addressbook: "addressbook_schema.sql",
};

/**
 * Folders that may hold the .sql files, best first. Under tsx this module lives in `src/demo/`, next to
 * `schema/`. Compiled, it lives in `dist/src/demo/`, and tsc does not copy .sql files, so we fall back to
 * `src/demo/schema` under the package root (the nearest ancestor holding a package.json).
 */
function candidateFolders(): string[] {
  const moduleDir = dirname(fileURLToPath(import.meta.url));
  const folders = [join(moduleDir, "schema")];
  for (let dir = moduleDir; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) {
      folders.push(join(dir, "src", "demo", "schema"));
      break;
    }
    if (dirname(dir) === dir) break;
  }
  return folders;
}

/** The SQL text of one embedded schema, exactly as stored. Throws a clear error if the file is missing. */
export function readSchemaSql(name: SchemaName): string {
  const fileName = schemaFiles[name];
  if (fileName === undefined) {
    throw new Error(
      `Unknown schema "${String(name)}"; expected one of: ${Object.keys(schemaFiles).join(", ")}`,
    );
  }
  const folders = candidateFolders();
  for (const folder of folders) {
    const path = join(folder, fileName);
    if (existsSync(path)) return readFileSync(path, "utf8");
  }
  throw new Error(
    `Embedded schema file ${fileName} not found (looked in: ${folders.join(", ")}). ` +
      "The package installation looks incomplete: reinstall mac-messages-mcp.",
  );
}
