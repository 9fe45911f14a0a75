// The remote troubleshooting commands in the docs, run as written against a running remote server: the real
// `mac-messages-mcp remote` (demo data) on loopback, behind the real Caddy with the Caddyfile setup-vps.sh
// renders for mcp.yourdomain.com. Every `curl` line the docs show runs verbatim in bash; what DNS, the router
// and a public certificate do for a user is done by curl's own configuration file in the test's home
// (`connect-to` sends mcp.yourdomain.com:443, YOUR_IMAC_PUBLIC_IP:8000, localhost:8000 … to the loopback ports,
// `cacert` trusts Caddy's internal CA), so the lines themselves are not edited. The original guide's
// `rm ~/.mac-messages-mcp/oauth_state.json` is run too, to show why the docs replace it with `auth reset`.
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { commandsIn, DOC_FILES, readDoc } from "../helpers/docs-markdown.js";
import { REPO_ROOT } from "../helpers/packed-package.js";
import { runInPseudoTerminal } from "../helpers/pseudo-terminal.js";
import { getFreePort, OWNER_PASSWORD } from "../helpers/remote-fixtures.js";
import { obtainTokens } from "../helpers/remote-oauth-http.js";
import { waitUntil } from "../helpers/wait.js";

const run = promisify(execFile);

/** The public name the docs use; the server is started with it as its --server-url, as a user would. */
const DOMAIN = "mcp.yourdomain.com";
/** Where the docs' plain-http lines point: the Mac's port, seen from the Mac or (tunnel/direct) the VPS. */
const DOCS_PORT = 8000;
/** Host names the docs' lines use for the Mac's port 8000. */
const MAC_HOSTS = ["127.0.0.1", "localhost", "YOUR_IMAC_PUBLIC_IP", "YOUR_HOME_IP"];
/** The original guide (read-only, beside the checkout when the shared folder is there). */
const GUIDE = join(REPO_ROOT, "..", "shared", "reference", "remote-access-guide.md");
/** Start-up generates the demo data first; on a busy machine that takes a while. */
const START_TIMEOUT_MS = 300_000;
const caddyAvailable = spawnSync("caddy", ["version"]).status === 0;

/** Not about this server: it asks a public service for your address. */
const NOT_THE_SERVER = ["curl -4 ifconfig.me"];

let root = "";
let home = "";
let env: NodeJS.ProcessEnv = {};
let port = 0;
let server: ChildProcess | undefined;
let serverLog = "";
let caddy: ChildProcess | undefined;
let caddyLog = "";

/** Runs one line from the docs in bash, as the user would type it, in the test's home. */
async function shell(line: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return await run("bash", ["-c", line], { cwd: home, env, timeout: 120_000 }).then(
    (ok) => ({ code: 0, stdout: ok.stdout, stderr: ok.stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof error.code === "number" ? error.code : -1,
      stdout: error.stdout ?? "",
      stderr: error.stderr ?? "",
    }),
  );
}

/**
 * The production Caddyfile (as setup-vps.sh renders it for the docs' domain) with only what a loopback test
 * needs added: Caddy's internal CA instead of Let's Encrypt, its ports and storage in the temp folder, no
 * admin endpoint, no redirect listener, no touching the system trust store.
 */
function loopbackCaddyfile(rendered: string, ports: { https: number; http: number }, storage: string) {
  const global = [
    "{",
    "\tadmin off",
    "\tauto_https disable_redirects",
    "\tskip_install_trust",
    `\thttp_port ${ports.http}`,
    `\thttps_port ${ports.https}`,
    `\tstorage file_system {\n\t\troot ${storage}\n\t}`,
  ].join("\n");
  const site = `\n${DOMAIN} {\n`;
  assert.equal(rendered.split(site).length, 2, "one site block for the domain");
  assert.equal(rendered.match(/^\{$/gm)?.length, 1, "one global options block");
  return rendered.replace(/^\{$/m, global).replace(site, `${site}\ttls internal\n`);
}

async function stop(child: ChildProcess | undefined) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const forceKill = setTimeout(() => child.kill("SIGKILL"), 30_000);
  await exited;
  clearTimeout(forceKill);
}

before(async () => {
  if (!caddyAvailable) return;
  root = mkdtempSync(join(tmpdir(), "mmm-troubleshooting-"));
  home = join(root, "home");
  const bin = join(root, "bin");
  mkdirSync(home);
  mkdirSync(bin);
  // `mac-messages-mcp` on PATH is this checkout's CLI, as an installed package would put it there.
  const tsx = fileURLToPath(import.meta.resolve("tsx"));
  writeFileSync(
    join(bin, "mac-messages-mcp"),
    `#!/bin/sh\nexec "${process.execPath}" --import "${tsx}" "${join(REPO_ROOT, "src", "cli", "main.ts")}" "$@"\n`,
  );
  chmodSync(join(bin, "mac-messages-mcp"), 0o755);
  // The user's environment: their home (state in ~/.mac-messages-mcp, the default), no chat.db (the demo).
  env = {
    HOME: home,
    TMPDIR: root,
    PATH: [bin, dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(":"),
  };

  // `auth set-password` reads the password from stdin when it is not a terminal.
  const password = spawnSync(join(bin, "mac-messages-mcp"), ["auth", "set-password"], {
    env,
    input: `${OWNER_PASSWORD}\n`,
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.equal(password.status, 0, `auth set-password: ${password.stderr}`);

  port = await getFreePort();
  server = spawn(
    join(bin, "mac-messages-mcp"),
    ["remote", "--server-url", `https://${DOMAIN}`, "--port", String(port)],
    { cwd: home, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  for (const stream of [server.stdout, server.stderr]) {
    stream?.on("data", (chunk: Buffer) => {
      serverLog += chunk.toString();
    });
  }

  const [httpsPort, httpPort] = [await getFreePort(), await getFreePort()];
  const rendered = spawnSync(
    "bash",
    [join(REPO_ROOT, "deployment", "setup-vps.sh"), "--print-caddyfile", DOMAIN, `127.0.0.1:${port}`],
    { encoding: "utf8" },
  );
  assert.equal(rendered.status, 0, rendered.stderr);
  const storage = join(root, "caddy");
  const caddyfile = join(root, "Caddyfile");
  writeFileSync(caddyfile, loopbackCaddyfile(rendered.stdout, { https: httpsPort, http: httpPort }, storage));
  caddy = spawn("caddy", ["run", "--config", caddyfile, "--adapter", "caddyfile"], {
    env: { PATH: env.PATH, HOME: root, XDG_DATA_HOME: root, XDG_CONFIG_HOME: root },
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of [caddy.stdout, caddy.stderr]) {
    stream?.on("data", (chunk: Buffer) => {
      caddyLog += chunk.toString();
    });
  }

  // curl's own configuration stands in for DNS, the port forward or tunnel, and a public certificate.
  const caCert = join(storage, "pki", "authorities", "local", "root.crt");
  writeFileSync(
    join(home, ".curlrc"),
    [
      ...MAC_HOSTS.map((host) => `connect-to = ${host}:${DOCS_PORT}:127.0.0.1:${port}`),
      `connect-to = ${DOMAIN}:443:127.0.0.1:${httpsPort}`,
      `cacert = ${caCert}`,
      "",
    ].join("\n"),
  );

  const exited = (child: ChildProcess | undefined) => child?.exitCode !== null || child?.signalCode !== null;
  await waitUntil(
    async () => {
      if (exited(server)) throw new Error(`the server exited:\n${serverLog}`);
      return (await shell(`curl -sf http://127.0.0.1:${DOCS_PORT}/health`)).code === 0;
    },
    `the remote server on port ${port}`,
    START_TIMEOUT_MS,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\nserver output:\n${serverLog}`);
  });
  await waitUntil(
    async () => {
      if (exited(caddy)) throw new Error(`caddy exited:\n${caddyLog}`);
      return existsSync(caCert) && (await shell(`curl -sf https://${DOMAIN}/health`)).code === 0;
    },
    "Caddy with its internal certificate",
    120_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\ncaddy output:\n${caddyLog}`);
  });
});

after(async () => {
  await stop(server);
  await stop(caddy);
  if (root) rmSync(root, { recursive: true, force: true });
});

const skip =
  !caddyAvailable && "caddy is not installed (Debian package `caddy`; scripts/test.sh installs it)";

describe("every curl line in the docs, run as written against a running remote server", { skip }, () => {
  const lines = [...new Set(DOC_FILES.flatMap((file) => commandsIn(readDoc(file), "curl")))];

  test("the docs check each hop: the Mac, the VPS (tunnel and direct) and the public HTTPS name", () => {
    for (const url of [
      `http://127.0.0.1:${DOCS_PORT}/health`,
      `http://localhost:${DOCS_PORT}/health`,
      `http://YOUR_IMAC_PUBLIC_IP:${DOCS_PORT}/health`,
      `https://${DOMAIN}/health`,
    ]) {
      assert.ok(
        lines.some((line) => line.endsWith(` ${url}`)),
        `a line for ${url} in:\n${lines.join("\n")}`,
      );
    }
  });

  test("the original guide's curl and rm lines are each listed in docs/deployment.md", {
    skip: !existsSync(GUIDE) && `${GUIDE} is not beside this checkout`,
  }, () => {
    const guide = readFileSync(GUIDE, "utf8");
    const table = commandsIn(readDoc(join("docs", "deployment.md")), "curl").concat(
      commandsIn(readDoc(join("docs", "deployment.md")), "rm"),
    );
    const guideLines = [...commandsIn(guide, "curl"), ...commandsIn(guide, "rm")];
    assert.ok(guideLines.length >= 5, guideLines.join("\n"));
    for (const line of guideLines) assert.ok(table.includes(line), `docs/deployment.md lists \`${line}\``);
  });

  for (const line of lines) {
    test(line, {
      skip: NOT_THE_SERVER.includes(line) && "asks a public service for your address",
    }, async () => {
      const result = await shell(line);
      assert.equal(result.code, 0, `exit ${result.code}: ${result.stderr}`);
      const health = JSON.parse(result.stdout) as Record<string, unknown>;
      assert.equal(health.status, "ok");
      assert.equal(health.service, "mac-messages-mcp");
      assert.equal(health.serverUrl, `https://${DOMAIN}`);
    });
  }
});

describe("clearing the OAuth state of a running server", { skip }, () => {
  const direct = () => `http://127.0.0.1:${port}`;

  /** What a client holding `token` gets from /mcp: 200 while its grant stands, 401 once it is gone. */
  async function mcpStatus(token: string): Promise<number> {
    const res = await fetch(`${direct()}/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-06-18",
          capabilities: {},
          clientInfo: { name: "troubleshooting", version: "1.0.0" },
        },
      }),
    });
    await res.body?.cancel();
    return res.status;
  }

  const stateDir = () => join(home, ".mac-messages-mcp");

  test("the guide's `rm ~/.mac-messages-mcp/oauth_state.json` finds no such file and signs nobody out", async () => {
    const { access_token } = await obtainTokens(direct());
    assert.equal(await mcpStatus(access_token), 200);
    const rm = await shell("rm ~/.mac-messages-mcp/oauth_state.json");
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, /No such file or directory/);
    assert.ok(existsSync(join(stateDir(), "oauth_state.db")), "the state lives in oauth_state.db");
    assert.equal(await mcpStatus(access_token), 200, "the client is still signed in");
  });

  test("`mac-messages-mcp auth reset` (as the docs show it, answering its question) signs every client out of the running server at once", async () => {
    const [line] = commandsIn(readDoc(join("docs", "remote-access.md")), "mac-messages-mcp").filter(
      (command) => command === "mac-messages-mcp auth reset",
    );
    assert.ok(line, "docs/remote-access.md shows `mac-messages-mcp auth reset`");
    const first = await obtainTokens(direct());
    const second = await obtainTokens(direct());
    assert.equal(await mcpStatus(first.access_token), 200);
    let answered = false;
    const reset = await runInPseudoTerminal("bash", ["-c", line], {
      cwd: home,
      env,
      timeoutMs: 120_000,
      onOutput: (soFar, type) => {
        if (!answered && soFar.includes("Type 'yes' to continue")) {
          answered = true;
          type("yes\r");
        }
      },
    });
    assert.equal(reset.code, 0, `${reset.stdout}\n${reset.stderr}`);
    assert.match(reset.stdout, /OAuth state reset\. The old file was moved to /);
    assert.ok(
      readdirSync(stateDir()).some((name) => name.startsWith("oauth_state.db.") && name !== "oauth_state.db"),
      `a copy of the old state is kept beside it: ${readdirSync(stateDir()).join(", ")}`,
    );
    assert.equal(await mcpStatus(first.access_token), 401, "the first client is signed out");
    assert.equal(await mcpStatus(second.access_token), 401, "and so is the second");
    const health = await shell(`curl -sf http://127.0.0.1:${DOCS_PORT}/health`);
    assert.equal(health.code, 0, "the server keeps running");
    const again = await obtainTokens(direct());
    assert.equal(await mcpStatus(again.access_token), 200, "a client that authorizes again is let in");
  });

  test("deleting oauth_state.db by hand does not reach the running server (why the docs say `auth reset`)", async () => {
    const { access_token } = await obtainTokens(direct());
    const rm = await shell("rm ~/.mac-messages-mcp/oauth_state.db");
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(await mcpStatus(access_token), 200, "the running server still honours the token");
  });
});
