#!/usr/bin/env node
// Runs the test files with Node's built-in runner (TypeScript through tsx).
// Node 20's `--test` does not expand globs itself, so the file list is collected here.
// `--stress` runs the long reliability/load suite in test/stress instead of the fast suite, one file at a
// time so the load figures are not distorted by the crash test sharing the two cores.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const stress = process.argv.includes("--stress");
const only = process.argv.slice(2).filter((a) => !a.startsWith("--"));

function collect(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!stress && entry.name === "stress") continue;
      out.push(...collect(full));
    } else if (entry.name.endsWith(".test.ts")) {
      out.push(full);
    }
  }
  return out;
}

let files = collect(stress ? "test/stress" : "test").sort();
if (only.length > 0) files = files.filter((f) => only.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", `--test-concurrency=${stress ? 1 : 2}`, "--test-reporter=spec", ...files],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
