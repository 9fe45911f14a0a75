// What this particular chat.db looks like. Messages' schema changes with nearly every macOS release
// (columns appear on Ventura, Sonoma, Sequoia, Tahoe…), so every query is built from what
// `pragma table_info` reports instead of assuming one version.
import type { Database } from "better-sqlite3";

/** Tables without which a file is not a Messages database. */
export const REQUIRED_TABLES = ["message", "handle", "chat", "chat_message_join"] as const;

export interface SchemaInfo {
  tables: Set<string>;
  columns: Map<string, Set<string>>;
}

export function readSchema(db: Database): SchemaInfo {
  const tables = new Set(
    (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
      (r) => r.name,
    ),
  );
  const columns = new Map<string, Set<string>>();
  for (const table of tables) {
    // Table names come from sqlite_master itself, so quoting them here is safe.
    const info = db.prepare(`PRAGMA table_info("${table.replaceAll('"', '""')}")`).all() as {
      name: string;
    }[];
    columns.set(table, new Set(info.map((c) => c.name)));
  }
  return { tables, columns };
}

export function missingTables(schema: SchemaInfo): string[] {
  return REQUIRED_TABLES.filter((t) => !schema.tables.has(t));
}

export function hasColumn(schema: SchemaInfo, table: string, column: string): boolean {
  return schema.columns.get(table)?.has(column) ?? false;
}

/**
 * A select-list entry that reads `alias.column` when the column exists and a typed NULL otherwise,
 * always under the column's own name, so row mapping never needs to know the macOS version.
 */
export function columnOrNull(schema: SchemaInfo, table: string, alias: string, column: string): string {
  return hasColumn(schema, table, column) ? `${alias}.${column} AS ${column}` : `NULL AS ${column}`;
}
