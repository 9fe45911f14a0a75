// kill -9 while OAuth state is being written: the file always loads, and nothing whose write was
// acknowledged is lost (nor does an acknowledged revocation come back). The stress suite does more kills.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runCrashTest } from "../helpers/state-crash.js";

test("SIGKILL at random moments during state writes never corrupts or loses acknowledged state", async () => {
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
  const result = await runCrashTest(16, 2, seed);
  assert.deepEqual(result.problems, [], `seed ${seed}`);
  assert.ok(result.kills >= 30, `only ${result.kills} of 32 children were killed mid-run (seed ${seed})`);
  assert.ok(result.ackedClients >= result.kills, "every child acknowledged at least one write before dying");
  assert.ok(result.ackedRevocations > 0, "revocations were exercised");
  assert.equal(result.leftoverTempFiles, 0, "temp files of killed writers are cleaned up by the next writer");
});
