// The SDK's default JSON Schema validator (AJV, ~300 KB of code) loaded when it is first needed instead of
// at start-up. The server only validates a JSON Schema to check a person's answer to a confirmation
// (elicitation, send_message with confirm), so most sessions never need it. The CLI bundle
// (scripts/build-cli.mjs) puts this module in place of the SDK's Node shims, which import AJV at once; it
// exports what they export.
import { createRequire } from "node:module";
import process from "node:process";
import type { jsonSchemaValidator } from "@modelcontextprotocol/server";

type Validator = InstanceType<
  typeof import("@modelcontextprotocol/server/validators/ajv").AjvJsonSchemaValidator
>;

export class DefaultJsonSchemaValidator implements jsonSchemaValidator {
  #ajv: Validator | undefined;

  getValidator<T>(schema: Parameters<jsonSchemaValidator["getValidator"]>[0]) {
    // The SDK's CommonJS build of the same validator: require() is synchronous, as getValidator is.
    this.#ajv ??= new (
      createRequire(import.meta.url)(
        "@modelcontextprotocol/server/validators/ajv",
      ) as typeof import("@modelcontextprotocol/server/validators/ajv")
    ).AjvJsonSchemaValidator();
    return this.#ajv.getValidator<T>(schema);
  }
}

export { process };
