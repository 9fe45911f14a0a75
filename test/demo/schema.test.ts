import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import ts from "typescript";
import { readSchemaSql, type SchemaName } from "../../src/demo/schema.js";
import { CHATDB_FIXTURES_DIR } from "../helpers/fixtures.js";

const fixtures = CHATDB_FIXTURES_DIR;
const pairs: [SchemaName, string][] = [
  ["chat", "chat_schema.sql"],
  ["chat-macos26-additions", "chat_schema_macos26_additions.sql"],
  ["addressbook", "addressbook_schema.sql"],
];

for (const [name, file] of pairs) {
  test(`embedded ${file} is byte-identical to the shared fixture`, () => {
    const embedded = readFileSync(new URL(`../../src/demo/schema/${file}`, import.meta.url));
    const fixture = readFileSync(`${fixtures}/${file}`);
    assert.ok(embedded.equals(fixture), `${file} differs from ${fixtures}/${file}`);
    assert.equal(readSchemaSql(name), fixture.toString("utf8"));
  });
}

test("the embedded schemas build working databases", () => {
  const db = new Database(":memory:");
  try {
    db.exec(readSchemaSql("chat"));
    db.exec(readSchemaSql("chat-macos26-additions"));
    const columns = db.prepare("SELECT name FROM pragma_table_info('message')").pluck().all();
    assert.ok(columns.includes("date_recovered"));
    db.exec(readSchemaSql("addressbook"));
    const contactEnt = db
      .prepare("SELECT Z_ENT FROM Z_PRIMARYKEY WHERE Z_NAME = 'ABCDContact'")
      .pluck()
      .get();
    assert.equal(contactEnt, 22);
  } finally {
    db.close();
  }
});

test("an unknown schema name gets a clear error", () => {
  assert.throws(() => readSchemaSql("nope" as SchemaName), /Unknown schema "nope"/);
});

test("compiled into dist/src/demo, readSchemaSql falls back to src/demo/schema under the package root", async () => {
  const packageRoot = mkdtempSync(join(tmpdir(), "schema-dist-"));
  try {
    writeFileSync(join(packageRoot, "package.json"), '{ "type": "module" }');
    cpSync(new URL("../../src/demo/schema", import.meta.url), join(packageRoot, "src", "demo", "schema"), {
      recursive: true,
    });
    const source = readFileSync(new URL("../../src/demo/schema.ts", import.meta.url), "utf8");
    const compiled = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const distModule = join(packageRoot, "dist", "src", "demo", "schema.js");
    mkdirSync(join(distModule, ".."), { recursive: true });
    writeFileSync(distModule, compiled);
    const loaded = (await import(pathToFileURL(distModule).href)) as { readSchemaSql: typeof readSchemaSql };
    assert.equal(
      loaded.readSchemaSql("addressbook"),
      readFileSync(`${fixtures}/addressbook_schema.sql`, "utf8"),
    );
    rmSync(join(packageRoot, "src"), { recursive: true });
    assert.throws(() => loaded.readSchemaSql("chat"), /Embedded schema file chat_schema\.sql not found/);
  } finally {
    rmSync(packageRoot, { recursive: true, force: true });
  }
});
