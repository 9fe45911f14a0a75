// What a connection can hold on to (issue #16 item 4, issue #14 finding 12): open SSE streams end when
// their token is revoked or expires, slow-trickling request bodies are cut off while others are served,
// and a flood of authorization requests cannot pile up pending consents without bound.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, test } from "node:test";
import {
  makeStateDir,
  OWNER_PASSWORD,
  startTestRemote,
  type TestRemote,
} from "../helpers/remote-fixtures.js";
import {
  authorizeUrl,
  obtainTokens,
  openConsentPage,
  pkcePair,
  registerClient,
  submitConsent,
} from "../helpers/remote-oauth-http.js";

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function freshRemote(extra: Parameters<typeof startTestRemote>[1] = {}): Promise<TestRemote> {
  const state = await makeStateDir();
  cleanups.push(state.cleanup);
  const remote = await startTestRemote(state.dir, extra);
  cleanups.push(() => remote.close());
  return remote;
}

/** Opens GET /sse and resolves when the server ends the stream (or after `limitMs`, with false). */
async function streamEnds(serverUrl: string, accessToken: string, limitMs: number) {
  const controller = new AbortController();
  const res = await fetch(`${serverUrl}/sse`, {
    headers: { authorization: `Bearer ${accessToken}`, accept: "text/event-stream" },
    signal: controller.signal,
  });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const ended = (async () => {
    try {
      for (;;) if ((await reader.read()).done) return true;
    } catch {
      return true;
    }
  })();
  const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), limitMs));
  return {
    ended: Promise.race([ended, timer]).finally(() => controller.abort()),
  };
}

test("an open SSE stream ends once its token is revoked, and once it expires", async () => {
  const remote = await freshRemote({ sseKeepAliveMs: 200 });
  const revoked = await obtainTokens(remote.serverUrl);
  const stream = await streamEnds(remote.serverUrl, revoked.access_token, 60_000);
  const res = await fetch(`${remote.serverUrl}/revoke`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: revoked.clientId, token: revoked.refresh_token }),
  });
  assert.equal(res.status, 200);
  assert.equal(await stream.ended, true, "the stream outlived the revocation");

  const expiring = await obtainTokens(remote.serverUrl);
  const second = await streamEnds(remote.serverUrl, expiring.access_token, 60_000);
  remote.clock.offsetMs += 25 * 3600_000;
  assert.equal(await second.ended, true, "the stream outlived its token");
  assert.ok(remote.logs.some((l) => /SSE stream closed: its access token expired or was revoked/.test(l)));
});

test("slow-trickling request bodies are cut off after the request timeout while others are served", async () => {
  const remote = await freshRemote({ requestTimeoutMs: 2_000 });
  const sockets: Socket[] = [];
  const closed: Promise<void>[] = [];
  for (let i = 0; i < 50; i++) {
    const socket = connect(remote.port, "127.0.0.1");
    sockets.push(socket);
    closed.push(new Promise((resolve) => socket.once("close", () => resolve())));
    socket.on("error", () => {});
    socket.write(
      "POST /register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{",
    );
  }
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy();
  });
  // One byte a second from every connection, as a slowloris would.
  const trickle = setInterval(() => {
    for (const socket of sockets) if (!socket.destroyed) socket.write(" ");
  }, 1_000);
  cleanups.push(() => clearInterval(trickle));
  const health = await fetch(`${remote.serverUrl}/health`);
  assert.equal(health.status, 200, "the server still answers others");
  const allClosed = await Promise.race([
    Promise.all(closed).then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 60_000)),
  ]);
  clearInterval(trickle);
  assert.equal(allClosed, true, "slow connections were still open a minute later");
});

test("a flood of authorization requests does not pile up: a client keeps only its newest pending consents", async () => {
  const remote = await freshRemote();
  const clientId = await registerClient(remote.serverUrl);
  const first = await openConsentPage(authorizeUrl(remote.serverUrl, clientId, pkcePair().challenge));
  assert.equal(first.status, 200);
  // From many addresses (the per-address limit would answer a one-address flood with 429 first).
  for (let i = 0; i < 300; i++) {
    const res = await fetch(authorizeUrl(remote.serverUrl, clientId, pkcePair().challenge), {
      headers: { "x-forwarded-for": `10.9.${i >> 8}.${i & 255}` },
    });
    await res.arrayBuffer();
    assert.equal(res.status, 200);
  }
  // The first request made way for newer ones instead of being kept in memory.
  const stale = await submitConsent(remote.serverUrl, first, {
    password: OWNER_PASSWORD,
    decision: "approve",
  });
  assert.equal(stale.status, 400);
  assert.match(await stale.text(), /expired or was already answered/);
  const latest = await openConsentPage(authorizeUrl(remote.serverUrl, clientId, pkcePair().challenge));
  const approved = await submitConsent(remote.serverUrl, latest, {
    password: OWNER_PASSWORD,
    decision: "approve",
  });
  assert.equal(approved.status, 302);
});
