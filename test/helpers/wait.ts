// Waiting for something another process or the event loop will do, without guessing how long it takes.
// On a busy machine (CI on a developer's laptop, two cores shared by many jobs) a spawn can take seconds,
// so tests poll the observable state against a generous deadline instead of sleeping a fixed time.
import { setTimeout as sleep } from "node:timers/promises";

/** Generous default: long enough for a loaded machine, short enough that a real hang fails the test. */
export const WAIT_DEFAULT_MS = 30_000;

/** Resolves with the first truthy value of `check`; rejects naming `what` after `timeoutMs`. */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = WAIT_DEFAULT_MS,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let pause = 5;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pause);
    pause = Math.min(pause * 2, 200);
  }
}
