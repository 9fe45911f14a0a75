// The audit log: one JSON line per event, owner-only, no message text unless the owner opts in, appends
// from several processes never interleave, a failing disk never breaks the audited action, and the
// remote server records every registration, grant, refresh, revocation and denial.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { AUDIT_TEXT_ENV, AuditLog, auditLogPath, recoverInterruptedSends } from "../../src/audit/index.js";
import { revokeClient } from "../../src/remote/index.js";
import { makeStateDir, OWNER_PASSWORD, startTestRemote } from "../helpers/remote-fixtures.js";
import {
  approvedCode,
  authorizeUrl,
  openConsentPage,
  pkcePair,
  postToken,
  registerClient,
  submitConsent,
  TEST_REDIRECT,
} from "../helpers/remote-oauth-http.js";

const scratch = mkdtempSync(join(tmpdir(), "mmcp-audit-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

function readLines(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const SECRET_TEXT = "meet me at 10, the door code is 4711";

test("send_message events: 0600 file in a 0700 dir, keyed hash and length instead of text", () => {
  const dir = join(scratch, "plain", "state");
  const log = new AuditLog(join(dir, "audit.log"), { env: {} });
  log.record({
    kind: "send_message",
    target: "+15550100001",
    service: "iMessage",
    ok: true,
    text: SECRET_TEXT,
  });
  log.record({ kind: "send_message", target: "chat123", ok: false, error: "timeout", text: "x" });
  assert.equal(statSync(log.path).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const raw = readFileSync(log.path, "utf8");
  assert.ok(!raw.includes("door code"), "no message text by default");
  const [sent, failed] = readLines(log.path);
  assert.equal(sent?.kind, "send_message");
  assert.equal(sent?.target, "+15550100001");
  assert.equal(sent?.ok, true);
  assert.equal(sent?.textLength, SECRET_TEXT.length);
  assert.equal(sent?.textSha256, undefined, "no unsalted hash");
  assert.match(String(sent?.textHmac), /^[0-9a-f]{64}$/);
  assert.notEqual(sent?.textHmac, createHash("sha256").update(SECRET_TEXT).digest("hex"));
  // The owner can still match a text they have in hand, from any process using the same state folder.
  assert.equal(new AuditLog(join(dir, "audit.log")).textHmac(SECRET_TEXT), sent?.textHmac);
  assert.equal(statSync(join(dir, "audit.key")).mode & 0o777, 0o600);
  assert.equal(sent?.text, undefined);
  assert.ok(!Number.isNaN(Date.parse(String(sent?.at))));
  assert.equal(failed?.ok, false);
  assert.equal(failed?.error, "timeout");
});

test("message text is written only when the owner opts in (option or MAC_MESSAGES_AUDIT_TEXT=1)", () => {
  for (const [name, options] of [
    ["option", { includeText: true, env: {} }],
    ["env", { env: { [AUDIT_TEXT_ENV]: "1" } }],
  ] as const) {
    const log = new AuditLog(join(scratch, `optin-${name}.log`), options);
    log.record({ kind: "send_message", target: "a@example.com", ok: true, text: SECRET_TEXT });
    assert.equal(readLines(log.path)[0]?.text, SECRET_TEXT, name);
  }
  const notOne = new AuditLog(join(scratch, "optin-other.log"), { env: { [AUDIT_TEXT_ENV]: "yes" } });
  assert.equal(notOne.includeText, false, "only the exact value 1 opts in");
});

test("a pre-existing world-readable audit log is tightened to 0600; a failing write never throws", () => {
  const path = join(scratch, "loose.log");
  writeFileSync(path, "");
  chmodSync(path, 0o644);
  new AuditLog(path).record({ kind: "consent_denied", clientId: "c1" });
  assert.equal(statSync(path).mode & 0o777, 0o600);

  const blocked = join(scratch, "is-a-directory.log");
  mkdirSync(blocked);
  const problems: string[] = [];
  const log = new AuditLog(blocked, { onError: (m) => problems.push(m) });
  assert.doesNotThrow(() => log.record({ kind: "consent_denied", clientId: "c1" }));
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /could not append/);
});

test("appends from several processes at once stay whole lines", async () => {
  const path = join(scratch, "concurrent.log");
  const writers = 4;
  const perWriter = 250;
  const script = `
    import { AuditLog } from ${JSON.stringify(new URL("../../src/audit/index.ts", import.meta.url).href)};
    const log = new AuditLog(${JSON.stringify(path)}, { env: {} });
    for (let i = 0; i < ${perWriter}; i++) {
      log.record({ kind: "token_granted", clientId: "w" + process.argv[1] + "-" + i, scopes: ["messages:read"], resource: "x".repeat(2000) });
    }`;
  await Promise.all(
    Array.from(
      { length: writers },
      (_, w) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            ["--import", "tsx", "--input-type=module", "-e", script, String(w)],
            {
              stdio: ["ignore", "ignore", "inherit"],
            },
          );
          child.once("error", reject);
          child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
        }),
    ),
  );
  const lines = readLines(path); // throws on a torn line
  assert.equal(lines.length, writers * perWriter);
  assert.equal(new Set(lines.map((l) => l.clientId)).size, writers * perWriter);
});

test("the remote server records registrations, grants, refreshes, revocations, denials and replays", async () => {
  const state = await makeStateDir();
  const remote = await startTestRemote(state.dir);
  try {
    const clientId = await registerClient(remote.serverUrl);
    const { verifier, challenge } = pkcePair();
    const code = await approvedCode(remote.serverUrl, clientId, challenge);
    const exchange = { grant_type: "authorization_code", client_id: clientId, code, code_verifier: verifier };
    const granted = await postToken(remote.serverUrl, { ...exchange, redirect_uri: TEST_REDIRECT });
    assert.equal(granted.status, 200);
    const refreshed = await postToken(remote.serverUrl, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: granted.body.refresh_token!,
    });
    assert.equal(refreshed.status, 200);
    const revoke = await fetch(`${remote.serverUrl}/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: clientId, token: refreshed.body.refresh_token! }),
    });
    assert.equal(revoke.status, 200);
    const replay = await postToken(remote.serverUrl, exchange);
    assert.equal(replay.status, 400);
    const page = await openConsentPage(authorizeUrl(remote.serverUrl, clientId, pkcePair().challenge));
    assert.equal((await submitConsent(remote.serverUrl, page, { decision: "deny" })).status, 302);
    const wrong = await submitConsent(
      remote.serverUrl,
      await openConsentPage(authorizeUrl(remote.serverUrl, clientId, pkcePair().challenge)),
      { password: `${OWNER_PASSWORD}x`, decision: "approve" },
    );
    assert.equal(wrong.status, 401);
    assert.equal(revokeClient(state.dir, clientId), true);

    const path = auditLogPath(state.dir);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const events = readLines(path).map((e) => [e.kind, e.reason ?? null, e.clientId]);
    assert.deepEqual(events, [
      ["client_registered", null, clientId],
      ["consent_approved", null, clientId],
      ["token_granted", null, clientId],
      ["token_refreshed", null, clientId],
      ["token_revoked", "revocation_request", clientId],
      ["token_revoked", "code_replay", clientId],
      ["consent_denied", null, clientId],
      ["consent_password_failed", null, clientId],
      ["token_revoked", "client_revoked", clientId],
    ]);
    const raw = readFileSync(path, "utf8");
    for (const secret of [code, granted.body.access_token!, granted.body.refresh_token!, OWNER_PASSWORD]) {
      assert.ok(!raw.includes(secret), "no codes, tokens or passwords in the audit log");
    }
    const grant = readLines(path)[2]!;
    assert.deepEqual(grant.scopes, ["messages:read", "messages:send"]);
  } finally {
    await remote.close();
    state.cleanup();
  }
});

test("a short message cannot be guessed back from the log (probe: 4-digit code from a plain hash in 42 ms)", () => {
  const dir = join(scratch, "guess", "state");
  const log = new AuditLog(join(dir, "audit.log"), { env: {} });
  log.record({ kind: "send_message", target: "+15550100001", ok: true, text: "4711" });
  const [line] = readLines(log.path);
  const written = String(line?.textHmac);
  // What the probe did: try every 4-digit code against the hashes an attacker can compute without the key.
  let guessed: string | null = null;
  for (let n = 0; n < 10_000; n++) {
    const code = String(n).padStart(4, "0");
    const plain = createHash("sha256").update(code).digest("hex");
    const withoutKey = createHmac("sha256", "").update(code).digest("hex");
    if (plain === written || withoutKey === written) guessed = code;
  }
  assert.equal(guessed, null);
  assert.equal(log.textHmac("4711"), written, "with the key the owner matches it");
});

test("two processes creating the key at once agree on one key", async () => {
  const dir = join(scratch, "key-race");
  const script = `
    import { AuditLog } from ${JSON.stringify(new URL("../../src/audit/index.ts", import.meta.url).href)};
    process.stdout.write(new AuditLog(${JSON.stringify(join(dir, "audit.log"))}).textHmac("same text"));`;
  const outputs = await Promise.all(
    Array.from(
      { length: 4 },
      () =>
        new Promise<string>((resolve, reject) => {
          const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
            stdio: ["ignore", "pipe", "inherit"],
          });
          let out = "";
          child.stdout.on("data", (chunk: Buffer) => {
            out += chunk.toString();
          });
          child.once("error", reject);
          child.once("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`exited ${code}`))));
        }),
    ),
  );
  assert.equal(new Set(outputs).size, 1, outputs.join("\n"));
  assert.match(outputs[0]!, /^[0-9a-f]{64}$/);
});

test("sends written ahead by a process that is gone are recorded as interrupted, once", () => {
  const dir = join(scratch, "recover");
  const log = new AuditLog(join(dir, "audit.log"), { env: {} });
  const gone = 2 ** 22 + 12_345; // above pid_max's default: no such process
  const base = {
    kind: "send_message",
    target: "+15550100001",
    ok: null,
    text: "hi",
    via: "send_message",
  } as const;
  log.record({ ...base, phase: "sending", attempt: `${gone}-a`, pid: gone });
  log.record({ ...base, phase: "sending", attempt: `${gone}-b`, pid: gone });
  log.record({ ...base, phase: "sent", attempt: `${gone}-b`, pid: gone, ok: true });
  log.record({ ...base, phase: "sending", attempt: `${process.pid}-c`, pid: process.pid });
  assert.equal(recoverInterruptedSends(log), 1, "only the one whose process is gone and never finished");
  assert.equal(recoverInterruptedSends(log), 0, "recorded once");
  const interrupted = readLines(log.path).filter((l) => l.phase === "interrupted");
  assert.equal(interrupted.length, 1);
  assert.equal(interrupted[0]?.attempt, `${gone}-a`);
  assert.equal(interrupted[0]?.ok, null);
  assert.match(String(interrupted[0]?.error), /may or may not have been delivered/);
});
