// Module hooks of loaded-modules.mjs: every ES module (and CommonJS module imported from one) loaded.
import { appendFileSync } from "node:fs";

let file;

export function initialize(data) {
  file = data.file;
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith("node:")) appendFileSync(file, `${url}\n`);
  return nextLoad(url, context);
}
