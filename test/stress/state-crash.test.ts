// The long version of test/security-state-crash.test.ts: hundreds of SIGKILLs during OAuth state writes.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { test } from "node:test";
import { runCrashTest } from "../helpers/state-crash.js";

const PER_LANE = Number(process.env.CRASH_ITERATIONS ?? 100);

test(`kill -9 during state writes, ${PER_LANE * 2} times: nothing acknowledged is lost or corrupted`, {
  timeout: 600_000,
}, async () => {
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
  const started = performance.now();
  const result = await runCrashTest(PER_LANE, 2, seed);
  const seconds = (performance.now() - started) / 1000;
  const summary = [
    `State crash test (seed ${seed}): ${result.kills} SIGKILLs in ${seconds.toFixed(1)} s`,
    `acknowledged: ${result.ackedClients} client registrations, ${result.ackedTokens} live tokens, ${result.ackedRevocations} revocations`,
    `problems (lost, corrupt or resurrected): ${result.problems.length}; leftover temp files: ${result.leftoverTempFiles}`,
  ].join("\n");
  console.log(`\n${summary}\n`);
  mkdirSync("test-artifacts", { recursive: true });
  writeFileSync("test-artifacts/stress-state-crash-summary.txt", `${summary}\n`);
  assert.deepEqual(result.problems.slice(0, 10), [], `seed ${seed}`);
  assert.ok(result.kills >= PER_LANE * 2 - 2, `${result.kills} kills`);
  assert.equal(result.leftoverTempFiles, 0);
});
