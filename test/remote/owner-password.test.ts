// The owner password as a running server sees it (issue #16 item 1, item 5): a changed password applies at
// once, a damaged file fails closed and is refused at start-up, and a state folder made too open is tightened.
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { RemoteSetupError, setOwnerPassword, startRemoteServer } from "../../src/remote/index.js";
import {
  makeStateDir,
  makeTestMcpServerFactory,
  OWNER_PASSWORD,
  startTestRemote,
} from "../helpers/remote-fixtures.js";
import {
  authorizeUrl,
  openConsentPage,
  pkcePair,
  registerClient,
  submitConsent,
} from "../helpers/remote-oauth-http.js";

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const NEW_PASSWORD = "a different owner passphrase";

async function tryPassword(serverUrl: string, password: string): Promise<number> {
  const clientId = await registerClient(serverUrl);
  const page = await openConsentPage(authorizeUrl(serverUrl, clientId, pkcePair().challenge));
  const res = await submitConsent(serverUrl, page, { password, decision: "approve" });
  await res.arrayBuffer();
  return res.status;
}

const baseOptions = (stateDir: string) => ({
  serverUrl: "http://127.0.0.1:1",
  port: 0,
  stateDir,
  createMcpServer: makeTestMcpServerFactory().createMcpServer,
  sendToolNames: ["send_message"],
  logWriter: () => {},
});

test("auth set-password reaches a running server: the new password approves, the old one no longer does", async () => {
  const state = await makeStateDir();
  cleanups.push(state.cleanup);
  const remote = await startTestRemote(state.dir);
  cleanups.push(() => remote.close());
  assert.equal(await tryPassword(remote.serverUrl, OWNER_PASSWORD), 302);
  await setOwnerPassword(state.dir, NEW_PASSWORD);
  assert.equal(await tryPassword(remote.serverUrl, OWNER_PASSWORD), 401, "the old password still approved");
  assert.equal(await tryPassword(remote.serverUrl, NEW_PASSWORD), 302);
});

test("a password file damaged while running fails closed: no password approves, and the log says why", async () => {
  const state = await makeStateDir();
  cleanups.push(state.cleanup);
  const remote = await startTestRemote(state.dir);
  cleanups.push(() => remote.close());
  const file = join(state.dir, "owner_password.json");
  const stored = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({ ...stored, hash: "" }));
  assert.equal(await tryPassword(remote.serverUrl, OWNER_PASSWORD), 401);
  assert.equal(await tryPassword(remote.serverUrl, ""), 401);
  assert.equal(await tryPassword(remote.serverUrl, "anything at all"), 401);
  assert.ok(
    remote.logs.some((l) => /ERROR .*owner_password\.json is not a valid owner password file/.test(l)),
  );
});

test("an empty hash or bad scrypt parameters refuse to start, naming the file and the fix", async () => {
  const state = await makeStateDir();
  cleanups.push(state.cleanup);
  const file = join(state.dir, "owner_password.json");
  const good = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  for (const bad of [{ hash: "" }, { salt: "" }, { N: 0 }, { N: 3 }, { N: 2 ** 30 }, { r: 0 }, { p: 1000 }]) {
    writeFileSync(file, JSON.stringify({ ...good, ...bad }));
    await assert.rejects(startRemoteServer(baseOptions(state.dir)), (error: Error) => {
      assert.ok(error instanceof RemoteSetupError, `${JSON.stringify(bad)}: ${error.message}`);
      assert.ok(error.message.includes(file));
      assert.match(error.message, /auth set-password/);
      return true;
    });
  }
});

test("a state folder that already existed with 0755 is tightened to 0700, and its files are 0600", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mmcp-open-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  await setOwnerPassword(dir, OWNER_PASSWORD);
  const server = await startRemoteServer(baseOptions(dir));
  await server.close();
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, "owner_password.json")).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, "oauth_state.db")).mode & 0o777, 0o600);
});
