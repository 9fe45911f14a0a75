// The tools' input schemas `npm run build` computes for tools/list (scripts/build-cli.mjs, served by
// tool-definition.ts instead of converting at start-up) are the ones the SDK would serve: computed for the
// options the SDK converts with, and equal to the snapshots of what tools/list serves from source.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Client } from "@modelcontextprotocol/client";
import { InMemoryTransport, McpServer } from "@modelcontextprotocol/server";
// @ts-expect-error: a plain-JavaScript build script, no declarations.
import { SDK_SCHEMA_OPTIONS } from "../../scripts/build-cli.mjs";
import { TOOLS } from "../../src/mcp/index.js";
import { convertInputSchemas } from "../../src/mcp/tool-definition.js";

test("the SDK converts a tool's input schema with the options the build computes them for", async () => {
  const asked: unknown[] = [];
  const schema = {
    "~standard": {
      version: 1 as const,
      vendor: "probe",
      validate: (value: unknown) => ({ value }),
      jsonSchema: {
        input: (options: unknown) => {
          asked.push(options);
          return { type: "object", properties: {} };
        },
        output: () => ({ type: "object" }),
      },
    },
  };
  const server = new McpServer({ name: "probe", version: "1.0.0" });
  server.registerTool("probe", { description: "Probe.", inputSchema: schema }, async () => ({ content: [] }));
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "probe", version: "1.0.0" });
  await client.connect(clientSide);
  await client.listTools();
  await client.close();
  assert.ok(asked.length > 0, "tools/list converted the schema");
  for (const options of asked) assert.deepEqual(options, SDK_SCHEMA_OPTIONS);
});

test("the built schemas are what tools/list serves (the tool snapshots)", () => {
  const built = convertInputSchemas(TOOLS, SDK_SCHEMA_OPTIONS);
  for (const tool of TOOLS) {
    const snapshot = JSON.parse(
      readFileSync(join(import.meta.dirname, "tool-snapshots", `${tool.name}.json`), "utf8"),
    ) as { inputSchema: unknown };
    assert.deepEqual(built.tools[tool.name], snapshot.inputSchema, tool.name);
  }
});
