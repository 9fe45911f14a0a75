// The `remote` and `auth` commands as real child processes, plus start-up refusals (no owner
// password, corrupt state) and CLI changes reaching a running server through the state file.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { RemoteSetupError, startRemoteServer } from "../../src/remote/index.js";
import {
  getFreePort,
  makeStateDir,
  makeTestMcpServerFactory,
  OWNER_PASSWORD,
  startTestRemote,
} from "../helpers/remote-fixtures.js";
import {
  authorizeUrl,
  obtainTokens,
  openConsentPage,
  pkcePair,
  registerClient,
  submitConsent,
} from "../helpers/remote-oauth-http.js";

const ENTRY = "test/helpers/remote-cli-entry.ts";
const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function tempState(withPassword: boolean) {
  const state = await makeStateDir(withPassword);
  cleanups.push(state.cleanup);
  return state.dir;
}

function runCli(
  args: string[],
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", ENTRY, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

/** `remote` with a valid public URL on an ephemeral port: only the state in `dir` can make it fail. */
function runRemoteCli(dir: string) {
  return runCli(["remote", "--server-url", "https://mcp.example.com", "--port", "0", "--state-dir", dir]);
}

function assertOneLineError(stderr: string) {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0]!, /^mac-messages-mcp: /);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

const baseOptions = (stateDir: string) => ({
  serverUrl: "http://127.0.0.1:1",
  port: 0,
  stateDir,
  createMcpServer: makeTestMcpServerFactory().createMcpServer,
  sendToolNames: ["send_message"],
  logWriter: () => {},
});

test("remote mode refuses to start without an owner password, and says how to set one", async () => {
  const dir = await tempState(false);
  await assert.rejects(startRemoteServer(baseOptions(dir)), (error: Error) => {
    assert.ok(error instanceof RemoteSetupError);
    assert.match(error.message, /auth set-password/);
    return true;
  });
  const cli = await runRemoteCli(dir);
  assert.equal(cli.code, 1);
  assertOneLineError(cli.stderr);
  assert.match(cli.stderr, /No owner password is set.*auth set-password/);
});

test("server URL must be https (or http on loopback) and a bare origin", async () => {
  const dir = await tempState(true);
  for (const bad of ["http://mcp.example.com", "https://mcp.example.com/mcp", "not a url"]) {
    await assert.rejects(startRemoteServer({ ...baseOptions(dir), serverUrl: bad }), RemoteSetupError, bad);
  }
  const cli = await runCli(["remote", "--server-url", "http://mcp.example.com", "--state-dir", dir]);
  assert.equal(cli.code, 1);
  assertOneLineError(cli.stderr);
  const badPort = await runCli([
    "remote",
    "--server-url",
    "https://mcp.example.com",
    "--port",
    "http",
    "--state-dir",
    dir,
  ]);
  assert.equal(badPort.code, 2);
  assertOneLineError(badPort.stderr);
});

test("auth set-password: reads stdin when not a TTY, enforces a minimum length, stores a 0600 scrypt hash", async () => {
  const dir = await tempState(false);
  const short = await runCli(["auth", "set-password", "--state-dir", dir], "short\n");
  assert.equal(short.code, 2);
  assertOneLineError(short.stderr);
  assert.match(short.stderr, /at least 12/);

  const ok = await runCli(["auth", "set-password", "--state-dir", dir], `${OWNER_PASSWORD}\n`);
  assert.equal(ok.code, 0, ok.stderr);
  const file = join(dir, "owner_password.json");
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const stored = readFileSync(file, "utf8");
  assert.ok(!stored.includes(OWNER_PASSWORD));
  assert.match(stored, /"algorithm": "scrypt"/);

  // The stored password is the one the consent page accepts.
  const remote = await startTestRemote(dir);
  cleanups.push(() => remote.close());
  const { challenge } = pkcePair();
  const clientId = await registerClient(remote.serverUrl, { clientName: "CLI Test" });
  const page = await openConsentPage(authorizeUrl(remote.serverUrl, clientId, challenge));
  const res = await submitConsent(remote.serverUrl, page, { password: OWNER_PASSWORD, decision: "approve" });
  assert.equal(res.status, 302);
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

test("auth list / revoke act on the state file and reach a running server", async () => {
  const dir = await tempState(true);
  const remote = await startTestRemote(dir);
  cleanups.push(() => remote.close());
  const clientId = await registerClient(remote.serverUrl, { clientName: "CLI Test" });
  const { access_token: accessToken } = await obtainTokens(remote.serverUrl, { clientId });
  assert.equal(await mcpStatus(remote.serverUrl, accessToken), 200);

  const list = await runCli(["auth", "list", "--json", "--state-dir", dir]);
  assert.equal(list.code, 0, list.stderr);
  const clients = JSON.parse(list.stdout) as {
    clientId: string;
    clientName: string;
    activeAccessTokens: number;
  }[];
  assert.equal(clients.length, 1);
  assert.equal(clients[0]!.clientId, clientId);
  assert.equal(clients[0]!.clientName, "CLI Test");
  assert.equal(clients[0]!.activeAccessTokens, 1);
  assert.ok(!list.stdout.includes(accessToken));
  const human = await runCli(["auth", "list", "--state-dir", dir]);
  assert.match(human.stdout, /CLI Test/);
  assert.match(human.stdout, /127\.0\.0\.1:7777/);

  const unknown = await runCli(["auth", "revoke", "no-such-client", "--state-dir", dir]);
  assert.equal(unknown.code, 1);
  assertOneLineError(unknown.stderr);

  const revoked = await runCli(["auth", "revoke", clientId, "--state-dir", dir]);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.equal(await mcpStatus(remote.serverUrl, accessToken), 401, "the running server sees the revocation");
  assert.equal((await runCli(["auth", "list", "--state-dir", dir])).stdout.trim(), "No registered clients.");
});

test("corrupt state: refuses to start naming the file; auth reset moves it aside and start works again", async () => {
  const dir = await tempState(true);
  const file = join(dir, "oauth_state.json");
  writeFileSync(file, '{"version":1,"clients":', { mode: 0o600 });
  await assert.rejects(startRemoteServer(baseOptions(dir)), (error: Error) => {
    assert.ok(error instanceof RemoteSetupError);
    assert.ok(error.message.includes(file));
    assert.match(error.message, /auth reset/);
    return true;
  });
  const cli = await runRemoteCli(dir);
  assert.equal(cli.code, 1);
  assertOneLineError(cli.stderr);
  assert.match(cli.stderr, /corrupt/);

  const unconfirmed = await runCli(["auth", "reset", "--state-dir", dir]);
  assert.equal(unconfirmed.code, 2);
  assertOneLineError(unconfirmed.stderr);

  const reset = await runCli(["auth", "reset", "--yes", "--state-dir", dir]);
  assert.equal(reset.code, 0, reset.stderr);
  const aside = readdirSync(dir).filter((name) => name.startsWith("oauth_state.json.corrupt-"));
  assert.equal(aside.length, 1, "the bad file is kept, not deleted");
  assert.equal(readFileSync(join(dir, aside[0]!), "utf8"), '{"version":1,"clients":');

  const server = await startRemoteServer(baseOptions(dir));
  await server.close();
});

test("corrupt state database: refuses to start naming it; auth reset moves it aside", async () => {
  const dir = await tempState(true);
  const file = join(dir, "oauth_state.db");
  writeFileSync(file, "this is not a SQLite database".repeat(200), { mode: 0o600 });
  await assert.rejects(startRemoteServer(baseOptions(dir)), (error: Error) => {
    assert.ok(error instanceof RemoteSetupError);
    assert.ok(error.message.includes(file));
    assert.match(error.message, /corrupt.*auth reset/s);
    return true;
  });
  const reset = await runCli(["auth", "reset", "--yes", "--state-dir", dir]);
  assert.equal(reset.code, 0, reset.stderr);
  assert.equal(readdirSync(dir).filter((name) => name.startsWith("oauth_state.db.corrupt-")).length, 1);
  const server = await startRemoteServer(baseOptions(dir));
  await server.close();
});

test("`remote` serves /health from a child process and exits cleanly on SIGTERM", async () => {
  const dir = await tempState(true);
  const port = await getFreePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      ENTRY,
      "remote",
      "--server-url",
      `http://127.0.0.1:${port}`,
      "--port",
      String(port),
      "--state-dir",
      dir,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  cleanups.push(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  let stderr = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (d) => {
      stderr += d;
      if (stderr.includes("listening on")) resolve();
    });
    child.on("exit", () => reject(new Error(`remote exited early:\n${stderr}`)));
  });
  const health = await fetch(`http://127.0.0.1:${port}/health`);
  assert.equal(health.status, 200);
  assert.equal(((await health.json()) as { status: string }).status, "ok");
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  assert.equal(await exited, 0);
  assert.match(stderr, /\[[0-9a-f]{12}\] GET \/health 200/);
});
