// The consent page's password lockout under attack (issue #14 findings 1, 2 and 4): concurrent guesses
// must never get more checks than the limit, one address must not lock out the owner, a higher global
// backstop holds against rotating addresses, `auth unlock` lifts it, and X-Forwarded-For is believed
// only from a trusted proxy.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { requestConsentUnlock } from "../../src/remote/index.js";
import {
  makeStateDir,
  OWNER_PASSWORD,
  startTestRemote,
  type TestRemote,
} from "../helpers/remote-fixtures.js";
import {
  authorizeUrl,
  type ConsentPage,
  openConsentPage,
  pkcePair,
  registerClient,
  submitConsent,
} from "../helpers/remote-oauth-http.js";

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function freshRemote(extra: Parameters<typeof startTestRemote>[1] = {}) {
  const state = await makeStateDir();
  cleanups.push(state.cleanup);
  const remote = await startTestRemote(state.dir, extra);
  cleanups.push(() => remote.close());
  return { remote, dir: state.dir };
}

async function consentPage(remote: TestRemote, serverUrl = remote.serverUrl): Promise<ConsentPage> {
  const clientId = await registerClient(remote.serverUrl);
  const page = await openConsentPage(authorizeUrl(serverUrl, clientId, pkcePair().challenge));
  assert.equal(page.status, 200);
  return page;
}

function auditKinds(dir: string, kind: string): Record<string, unknown>[] {
  let text = "";
  try {
    text = readFileSync(join(dir, "audit.log"), "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.kind === kind);
}

test("200 concurrent wrong guesses on one request: at most 10 are checked, and a right guess among them is not approved", async () => {
  const { remote, dir } = await freshRemote();
  const page = await consentPage(remote);
  // All at once, the right password as guess 30 (what the audit found approved).
  const guesses = Array.from({ length: 200 }, (_, i) => (i === 29 ? OWNER_PASSWORD : `wrong-guess-${i}`));
  const responses = await Promise.all(
    guesses.map((password) => submitConsent(remote.serverUrl, page, { password, decision: "approve" })),
  );
  const statuses = responses.map((r) => r.status);
  const wrong = statuses.filter((s) => s === 401).length;
  assert.ok(wrong <= 10, `${wrong} wrong passwords were checked`);
  assert.equal(statuses.filter((s) => s === 302).length, 0, "the right guess inside the flood was approved");
  assert.ok(
    statuses.every((s) => s === 401 || s === 429),
    `unexpected statuses ${[...new Set(statuses)]}`,
  );
  const failures = auditKinds(dir, "consent_password_failed");
  assert.equal(failures.length, wrong, "every checked wrong password is in audit.log");
  assert.equal(failures[0]?.source, "127.0.0.1");
  // Still locked for this address afterwards, even with the right password.
  const after = await submitConsent(remote.serverUrl, page, {
    password: OWNER_PASSWORD,
    decision: "approve",
  });
  assert.equal(after.status, 429);
  assert.ok(Number(after.headers.get("retry-after")) > 0);
});

test("one address guessing cannot lock the owner out; a global backstop holds against many addresses; auth unlock lifts it", async () => {
  const { remote, dir } = await freshRemote();
  const attacker = { "x-forwarded-for": "203.0.113.7" };
  const page = await consentPage(remote);
  for (let i = 0; i < 12; i++) {
    await submitConsent(remote.serverUrl, page, {
      password: `nope-${i}`,
      decision: "approve",
      headers: attacker,
    });
  }
  const attackerNow = await submitConsent(remote.serverUrl, page, {
    password: OWNER_PASSWORD,
    decision: "approve",
    headers: attacker,
  });
  assert.equal(attackerNow.status, 429, "the attacking address is locked");
  const owner = await submitConsent(remote.serverUrl, page, {
    password: OWNER_PASSWORD,
    decision: "approve",
    headers: { "x-forwarded-for": "198.51.100.20" },
  });
  assert.equal(owner.status, 302, "the owner from another address still approves");
  assert.ok(new URL(owner.headers.get("location")!).searchParams.get("code"));

  // Rotating addresses: 9 wrong guesses each from 8 addresses trips the global backstop (50).
  const flood = await consentPage(remote);
  for (let a = 0; a < 8; a++) {
    for (let i = 0; i < 9; i++) {
      await submitConsent(remote.serverUrl, flood, {
        password: `rotate-${a}-${i}`,
        decision: "approve",
        headers: { "x-forwarded-for": `192.0.2.${100 + a}` },
      });
    }
  }
  const checked = auditKinds(dir, "consent_password_failed").length;
  assert.ok(checked <= 10 + 50, `${checked} wrong passwords were checked in total`);
  const ownerPage = await consentPage(remote);
  const locked = await submitConsent(remote.serverUrl, ownerPage, {
    password: OWNER_PASSWORD,
    decision: "approve",
    headers: { "x-forwarded-for": "198.51.100.21" },
  });
  assert.equal(locked.status, 429, "the global backstop locks every address");
  assert.match(await locked.text(), /auth unlock/);

  requestConsentUnlock(dir);
  const unlocked = await submitConsent(remote.serverUrl, ownerPage, {
    password: OWNER_PASSWORD,
    decision: "approve",
    headers: { "x-forwarded-for": "198.51.100.21" },
  });
  assert.equal(unlocked.status, 302, "auth unlock lets the owner in at once");
});

test("X-Forwarded-For counts only from a trusted proxy (--trust-proxy), otherwise the peer address does", async (t) => {
  // Reached over the machine's own non-loopback address, the peer is not loopback, so not trusted.
  const { networkInterfaces } = await import("node:os");
  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === "IPv4" && !i.internal)?.address;
  if (!external) {
    t.skip("no non-loopback IPv4 address on this machine");
    return;
  }
  for (const trusted of [false, true]) {
    const { remote } = await freshRemote({ host: "0.0.0.0", trustedProxies: trusted ? [external] : [] });
    const viaExternal = `http://${external}:${remote.port}`;
    const page = await consentPage(remote, viaExternal);
    // Ten wrong guesses, each claiming a different client address.
    for (let i = 0; i < 10; i++) {
      const res = await submitConsent(viaExternal, page, {
        password: `spoof-${i}`,
        decision: "approve",
        headers: { "x-forwarded-for": `203.0.113.${i + 1}` },
      });
      assert.equal(res.status, 401);
    }
    const next = await submitConsent(viaExternal, page, {
      password: OWNER_PASSWORD,
      decision: "approve",
      headers: { "x-forwarded-for": "198.51.100.50" },
    });
    // Untrusted: the header is ignored, all eleven come from one address, which is now locked.
    // Trusted: each guess was its own address, so the owner's is not locked.
    assert.equal(next.status, trusted ? 302 : 429, `trusted=${trusted}`);
    await remote.close();
  }
});
