// OAuth state under faults (issue #16 item 3, issue #14 finding 12): a refresh retried inside the grace
// period gets the same successor once; a full disk during a refresh answers 503 and loses nothing; two
// server processes on one state folder lose no registration or token.
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { setOwnerPassword } from "../../src/remote/index.js";
import { getFreePort, makeStateDir, startTestRemote } from "../helpers/remote-fixtures.js";
import { obtainTokens, postToken } from "../helpers/remote-oauth-http.js";

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function mcpStatus(serverUrl: string, accessToken: string): Promise<number> {
  const res = await fetch(`${serverUrl}/mcp`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${accessToken}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
  await res.arrayBuffer();
  return res.status;
}

const refresh = (serverUrl: string, clientId: string, refreshToken: string) =>
  postToken(serverUrl, { grant_type: "refresh_token", client_id: clientId, refresh_token: refreshToken });

test("a refresh retried within the grace period gets the same successor, once; a third use ends the grant", async () => {
  const state = await makeStateDir();
  cleanups.push(state.cleanup);
  const remote = await startTestRemote(state.dir);
  cleanups.push(() => remote.close());
  const tokens = await obtainTokens(remote.serverUrl);
  const first = await refresh(remote.serverUrl, tokens.clientId, tokens.refresh_token);
  assert.equal(first.status, 200);
  const retry = await refresh(remote.serverUrl, tokens.clientId, tokens.refresh_token);
  assert.equal(retry.status, 200, "a lost response can be retried");
  assert.deepEqual(retry.body, first.body, "the retry returns the very same successor");
  assert.equal(await mcpStatus(remote.serverUrl, first.body.access_token!), 200);
  const third = await refresh(remote.serverUrl, tokens.clientId, tokens.refresh_token);
  assert.equal(third.status, 400);
  assert.equal(third.body.error, "invalid_grant");
  assert.equal(await mcpStatus(remote.serverUrl, first.body.access_token!), 401, "reuse revoked the grant");
});

test("full disk during a refresh: 503, nothing changes, and the same token works once there is room again", async (t) => {
  const mountPoint = mkdtempSync(join(tmpdir(), "mmcp-fulldisk-"));
  cleanups.push(() => rmSync(mountPoint, { recursive: true, force: true }));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint], { stdio: "ignore" });
  } catch {
    t.skip("cannot mount a small tmpfs here (needs root); full-disk behaviour not exercised");
    return;
  }
  cleanups.push(() => {
    execFileSync("umount", ["-l", mountPoint], { stdio: "ignore" });
  });
  const dir = join(mountPoint, "state");
  await setOwnerPassword(dir, "correct horse battery staple");
  const remote = await startTestRemote(dir);
  cleanups.push(() => remote.close());
  const tokens = await obtainTokens(remote.serverUrl);

  // Fill the disk to the last byte.
  const filler = join(mountPoint, "filler");
  let size = 4 * 1024 * 1024;
  for (; size >= 1; size = Math.floor(size / 2)) {
    try {
      writeFileSync(`${filler}-${size}`, Buffer.alloc(size));
    } catch {
      rmSync(`${filler}-${size}`, { force: true });
    }
  }
  const failed = await refresh(remote.serverUrl, tokens.clientId, tokens.refresh_token);
  assert.equal(failed.status, 503, JSON.stringify(failed.body));
  assert.equal(failed.body.error, "temporarily_unavailable");
  assert.equal(await mcpStatus(remote.serverUrl, tokens.access_token), 200, "the grant is untouched");

  // Room again, long after any grace period: the same refresh token still works, exactly once.
  execFileSync("sh", ["-c", `rm -f ${filler}-*`]);
  remote.clock.offsetMs += 60 * 60_000;
  const retried = await refresh(remote.serverUrl, tokens.clientId, tokens.refresh_token);
  assert.equal(retried.status, 200, JSON.stringify(retried.body));
  assert.equal(await mcpStatus(remote.serverUrl, retried.body.access_token!), 200);
  assert.ok(!remote.logs.some((l) => / 500 /.test(l)), "no request answered 500");
});

test("two server processes on one state folder: 40 concurrent grants (20 each, the per-address registration limit), none lost, every token works on both", async () => {
  const state = await makeStateDir();
  cleanups.push(state.cleanup);
  const ports = [await getFreePort(), await getFreePort()];
  const children: ChildProcess[] = [];
  for (const port of ports) {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "test/helpers/remote-cli-entry.ts",
        "remote",
        // One public URL for both, as two copies of one deployment would have.
        "--server-url",
        `http://127.0.0.1:${ports[0]}`,
        "--port",
        String(port),
        "--state-dir",
        state.dir,
        "--log-level",
        "warn",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    children.push(child);
    cleanups.push(() => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });
  }
  // Wait until both answer (no fixed delay: the machine may be busy).
  for (const port of ports) {
    for (let i = 0; ; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 600) throw new Error(`server on ${port} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  // Each grant registers, authorizes and exchanges its code on one server; ten run at any moment (five per
  // server: more correct passwords in flight from one address than that count against its lockout).
  const grants: { tokens: Awaited<ReturnType<typeof obtainTokens>>; i: number }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      for (let i = next++; i < 40; i = next++) grants.push({ tokens: await obtainTokens(urls[i % 2]!), i });
    }),
  );
  assert.equal(grants.length, 40);
  for (const { tokens, i } of grants) {
    for (const url of urls) {
      assert.equal(await mcpStatus(url, tokens.access_token), 200, `grant ${i} on ${url}`);
    }
  }
  // A refresh on one server is seen by the other: the old access token keeps working, the new one too.
  const { tokens } = grants[0]!;
  const rotated = await refresh(urls[1]!, tokens.clientId, tokens.refresh_token);
  assert.equal(rotated.status, 200);
  assert.equal(await mcpStatus(urls[0]!, rotated.body.access_token!), 200);
});
