// The server's zod parses without compiling a parser per schema (src/cli/zod-settings.ts): program.ts sets it
// first, before the SDK builds its schemas, which read the setting as they are built.
import assert from "node:assert/strict";
import { test } from "node:test";

test("after program.ts loads, the SDK's schemas parse without compiling code", async () => {
  const compiled: string[] = [];
  const original = globalThis.Function;
  globalThis.Function = new Proxy(original, {
    construct(target, args) {
      compiled.push(String(args.at(-1)));
      return Reflect.construct(target, args);
    },
  });
  try {
    await import("../../src/cli/program.js");
    const { deserializeMessage } = await import("@modelcontextprotocol/server");
    const request =
      '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x","arguments":{"a":1}}}';
    for (let i = 0; i < 3; i++) assert.deepEqual(deserializeMessage(request), JSON.parse(request));
  } finally {
    globalThis.Function = original;
  }
  // zod's compiled parsers read `payload.value`; none was made.
  assert.deepEqual(
    compiled.filter((body) => body.includes("payload")),
    [],
  );
});
