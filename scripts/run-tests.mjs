#!/usr/bin/env node
// Runs the test files with Node's built-in runner (TypeScript through tsx).
// Node 20's `--test` does not expand globs itself, so the file list is collected here.
// `--stress` runs the long reliability/load suite in test/stress, one file at a time so the load figures are
// not distorted by the crash test sharing the two cores; then the whole normal suite again while two
// processes keep both cores busy, because CI runs on developers' machines, which are rarely idle, and no test
// may depend on a process starting or finishing within a few hundred milliseconds.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const stress = process.argv.includes("--stress");
const only = process.argv.slice(2).filter((a) => !a.startsWith("--"));
/** CPU-burning processes during the suite's second pass under --stress. */
const BURNERS = 2;

function collect(dir, withStress) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!withStress && entry.name === "stress") continue;
      out.push(...collect(full, withStress));
    } else if (entry.name.endsWith(".test.ts")) {
      out.push(full);
    }
  }
  return out;
}

function select(files) {
  const sorted = files.sort();
  return only.length > 0 ? sorted.filter((f) => only.some((o) => f.includes(o))) : sorted;
}

function runNodeTest(files, concurrency) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, "--test-reporter=spec", ...files],
      { stdio: "inherit" },
    );
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** Starts processes that spin on a core each until stopped (by pid, in stopBurners). */
function startBurners(count) {
  const burners = [];
  for (let i = 0; i < count; i++) {
    burners.push(
      spawn(process.execPath, ["-e", "let x = 0; for (;;) x = (x * 31 + 7) % 1000003;"], { stdio: "ignore" }),
    );
  }
  return burners;
}

function stopBurners(burners) {
  for (const burner of burners) {
    if (burner.exitCode === null && burner.signalCode === null) burner.kill("SIGKILL");
  }
}

if (!stress) {
  const files = select(collect("test", false));
  if (files.length === 0) {
    console.error("no test files found");
    process.exit(1);
  }
  process.exit(await runNodeTest(files, 2));
}

const stressFiles = select(collect("test/stress", true));
const normalFiles = select(collect("test", false));
if (stressFiles.length + normalFiles.length === 0) {
  console.error("no test files found");
  process.exit(1);
}
let failed = false;
if (stressFiles.length > 0) {
  console.log(`\n== stress suite: ${stressFiles.length} file(s), one at a time ==\n`);
  failed = (await runNodeTest(stressFiles, 1)) !== 0;
}
if (normalFiles.length > 0) {
  console.log(
    `\n== the whole normal suite (${normalFiles.length} files) with ${BURNERS} CPU-burning processes ==\n`,
  );
  const burners = startBurners(BURNERS);
  const stop = () => stopBurners(burners);
  process.on("exit", stop);
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => {
      stop();
      process.exit(1);
    });
  }
  const started = Date.now();
  const code = await runNodeTest(normalFiles, 2);
  stop();
  console.log(
    `\n== normal suite under load: ${code === 0 ? "passed" : "FAILED"} in ${((Date.now() - started) / 1000).toFixed(0)} s ==`,
  );
  failed ||= code !== 0;
}
process.exit(failed ? 1 : 0);
