// The JSON Schema validator the CLI bundle gives the SDK in place of its own (scripts/build-cli.mjs): the
// SDK's AJV validator, loaded on first use. It must validate as the SDK's does, since it checks a person's
// answer to a confirmation.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DefaultJsonSchemaValidator } from "../../src/mcp/lazy-json-schema-validator.js";

test("validates an elicitation answer as the SDK's validator does, loading it on first use", () => {
  const validator = new DefaultJsonSchemaValidator();
  const check = validator.getValidator<{ confirm: boolean }>({
    type: "object",
    properties: { confirm: { type: "boolean" } },
    required: ["confirm"],
  });
  assert.deepEqual(check({ confirm: true }), {
    valid: true,
    data: { confirm: true },
    errorMessage: undefined,
  });
  const wrong = check({ confirm: "yes" });
  assert.equal(wrong.valid, false);
  assert.match(wrong.errorMessage ?? "", /boolean/);
});
