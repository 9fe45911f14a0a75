// Preload (`node --import`) that records every module the process loads into $LOADED_MODULES_FILE, one per
// line: ES modules through a load hook (it runs on the loader thread, so it appends there), CommonJS ones
// (require, createRequire) from the require cache when the process exits.
import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";

const file = process.env.LOADED_MODULES_FILE;
if (file) {
  register(new URL("./loaded-modules-hooks.mjs", import.meta.url), { data: { file } });
  process.on("exit", () => {
    const cache = createRequire(import.meta.url)("node:module")._cache;
    appendFileSync(file, `${Object.keys(cache).join("\n")}\n`);
  });
}
