// The real Caddy (Debian package) with the Caddyfile users get from deployment/setup-vps.sh,
// swapped only to a loopback address with Caddy's internal CA, in front of the real remote-mode
// server. The official SDK client (in a child process that trusts Caddy's CA) completes OAuth
// through the consent page and calls a tool over Streamable HTTP and over legacy SSE. The tool
// sends a progress notification and then waits until the client has received it, so a proxy
// that buffered the event stream would make the tool report released=false.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { type RunningRemoteServer, startRemoteServer } from "../../src/remote/index.js";
import { getFreePort, makeStateDir, OWNER_PASSWORD } from "../helpers/remote-fixtures.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SETUP_VPS = join(REPO, "deployment/setup-vps.sh");
const CLIENT = join(REPO, "test/helpers/oauth-mcp-client.ts");
const PLACEHOLDER_DOMAIN = "mcp.example.test";
/** How long the tool waits for the client to see its progress event before giving up. */
const RELEASE_TIMEOUT_MS = 15_000;

/**
 * The production Caddyfile with only the site address and TLS changed for a loopback test:
 * `tls internal` instead of Let's Encrypt, no admin endpoint, no redirect listener on :80,
 * no touching the system trust store, certificates kept in the temp dir.
 */
function loopbackCaddyfile(rendered: string, opts: { httpsPort: number; httpPort: number; storage: string }) {
  const globalOpen = /^\{\n/m;
  const siteLine = new RegExp(`^${PLACEHOLDER_DOMAIN.replaceAll(".", "\\.")} \\{\\n`, "m");
  assert.equal(rendered.match(new RegExp(globalOpen, "gm"))?.length, 1, "one global options block");
  assert.equal(rendered.match(new RegExp(siteLine, "gm"))?.length, 1, "one site block");
  return rendered
    .replace(
      globalOpen,
      [
        "{",
        "\tadmin off",
        "\tauto_https disable_redirects",
        "\tskip_install_trust",
        `\thttp_port ${opts.httpPort}`,
        `\thttps_port ${opts.httpsPort}`,
        `\tstorage file_system {\n\t\troot ${opts.storage}\n\t}`,
        "",
      ].join("\n"),
    )
    .replace(siteLine, `https://127.0.0.1:${opts.httpsPort} {\n\ttls internal\n`);
}

function reverseProxyBlock(caddyfile: string): string {
  const start = caddyfile.indexOf("\treverse_proxy ");
  assert.ok(start >= 0, "the Caddyfile has a reverse_proxy block");
  return caddyfile.slice(start, caddyfile.indexOf("\n\t}\n", start) + 4);
}

function httpsGet(
  url: string,
  ca: Buffer,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolveGet, reject) => {
    const req = request(url, { ca, timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolveGet({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`timeout: ${url}`)));
    req.on("error", reject);
    req.end();
  });
}

const caddyAvailable = spawnSync("caddy", ["version"]).status === 0;

let workDir = "";
let server: RunningRemoteServer | undefined;
let caddy: ChildProcess | undefined;
let caddyLog = "";
let baseUrl = "";
let caCertPath = "";
let renderedCaddyfile = "";
let testCaddyfile = "";
let cleanupState: (() => void) | undefined;

// Each progress event the client reports releases the tool call that is waiting for it.
const waiting: Array<(released: boolean) => void> = [];
function waitForRelease(): Promise<boolean> {
  return new Promise((resolveRelease) => {
    const timer = setTimeout(() => {
      const index = waiting.indexOf(release);
      if (index >= 0) waiting.splice(index, 1);
      resolveRelease(false);
    }, RELEASE_TIMEOUT_MS);
    const release = (released: boolean) => {
      clearTimeout(timer);
      resolveRelease(released);
    };
    waiting.push(release);
  });
}

function createTestMcpServer(): McpServer {
  const mcp = new McpServer({ name: "caddy-e2e", version: "1.0.0" });
  mcp.registerTool(
    "wait_for_release",
    {
      description: "Sends a progress event, then waits until the client says it has received it.",
      inputSchema: z.object({ transport: z.string() }),
    },
    async ({ transport }, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      if (progressToken === undefined) return { content: [{ type: "text", text: "no progress token" }] };
      const released = waitForRelease();
      await ctx.mcpReq.notify({
        method: "notifications/progress",
        params: { progressToken, progress: 1, total: 2, message: `halfway over ${transport}` },
      });
      return { content: [{ type: "text", text: `released=${await released}` }] };
    },
  );
  return mcp;
}

before(async () => {
  if (!caddyAvailable) return;
  workDir = mkdtempSync(join(tmpdir(), "mmm-caddy-e2e-"));
  const state = await makeStateDir();
  cleanupState = state.cleanup;
  const stateDir = state.dir;

  const [httpsPort, httpPort] = [await getFreePort(), await getFreePort()];
  baseUrl = `https://127.0.0.1:${httpsPort}`;
  server = await startRemoteServer({
    serverUrl: baseUrl,
    host: "127.0.0.1",
    port: 0,
    stateDir,
    createMcpServer: () => createTestMcpServer(),
    sendToolNames: [],
    logWriter: () => {},
  });
  const upstream = new URL(server.url).host;

  const rendered = spawnSync("bash", [SETUP_VPS, "--print-caddyfile", PLACEHOLDER_DOMAIN, upstream], {
    encoding: "utf8",
  });
  assert.equal(rendered.status, 0, rendered.stderr);
  renderedCaddyfile = rendered.stdout;
  const storage = join(workDir, "caddy-data");
  testCaddyfile = loopbackCaddyfile(renderedCaddyfile, { httpsPort, httpPort, storage });
  const caddyfilePath = join(workDir, "Caddyfile");
  writeFileSync(caddyfilePath, testCaddyfile);

  caddy = spawn("caddy", ["run", "--config", caddyfilePath, "--adapter", "caddyfile"], {
    env: { ...process.env, HOME: workDir, XDG_DATA_HOME: workDir, XDG_CONFIG_HOME: workDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  caddy.stdout?.on("data", (chunk: Buffer) => {
    caddyLog += chunk.toString();
  });
  caddy.stderr?.on("data", (chunk: Buffer) => {
    caddyLog += chunk.toString();
  });

  // Ready when Caddy's CA exists and a request goes through it to the server.
  caCertPath = join(storage, "pki/authorities/local/root.crt");
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (caddy.exitCode !== null) throw new Error(`caddy exited with ${caddy.exitCode}:\n${caddyLog}`);
    if (existsSync(caCertPath)) {
      const health = await httpsGet(`${baseUrl}/health`, readFileSync(caCertPath)).catch(() => undefined);
      if (health?.status === 200) break;
    }
    if (Date.now() > deadline) throw new Error(`caddy did not become ready:\n${caddyLog}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

after(async () => {
  for (const release of waiting.splice(0)) release(false);
  // Server first: Caddy's graceful shutdown has no deadline while proxied streams are open.
  await server?.close();
  if (caddy && caddy.exitCode === null) {
    const exited = once(caddy, "exit");
    caddy.kill("SIGTERM");
    const forceKill = setTimeout(() => caddy?.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(forceKill);
  }
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  cleanupState?.();
});

test("the test Caddyfile differs from the production one only in the site address and TLS", {
  skip: !caddyAvailable && "caddy is not installed (Debian package `caddy`)",
}, () => {
  assert.equal(reverseProxyBlock(testCaddyfile), reverseProxyBlock(renderedCaddyfile));
  assert.match(reverseProxyBlock(testCaddyfile), /flush_interval -1/);
  const strip = (text: string) =>
    text
      .split("\n")
      .filter(
        (line) =>
          !/^\t(admin|auto_https|skip_install_trust|http_port|https_port|storage|\troot|}$)|^\ttls internal$/.test(
            line,
          ),
      )
      .filter((line) => !line.startsWith("https://127.0.0.1:") && line !== `${PLACEHOLDER_DOMAIN} {`)
      .join("\n");
  assert.equal(strip(testCaddyfile), strip(renderedCaddyfile));
});

test("health answers through Caddy over HTTPS with Caddy's security headers", {
  skip: !caddyAvailable && "caddy is not installed (Debian package `caddy`)",
}, async () => {
  const health = await httpsGet(`${baseUrl}/health`, readFileSync(caCertPath));
  assert.equal(health.status, 200);
  assert.equal(JSON.parse(health.body).status, "ok");
  assert.equal(health.headers["strict-transport-security"], "max-age=31536000");
  assert.equal(health.headers.server, undefined, "Caddy removes the Server header");
});

test("the SDK client completes OAuth and tools/call through Caddy, with SSE events delivered promptly", {
  skip: !caddyAvailable && "caddy is not installed (Debian package `caddy`)",
}, async () => {
  const child = spawn(process.execPath, ["--import", "tsx", CLIENT, baseUrl, OWNER_PASSWORD], {
    cwd: REPO,
    env: { ...process.env, NODE_EXTRA_CA_CERTS: caCertPath },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const events: Array<Record<string, unknown>> = [];
  const lines = createInterface({ input: child.stdout });
  lines.on("line", (line) => {
    const event = JSON.parse(line) as Record<string, unknown>;
    events.push(event);
    if (event.event === "progress") waiting.shift()?.(true);
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  // "close" comes after the child's stdout has ended, so every line has been seen.
  const [code] = (await once(child, "close")) as [number | null];
  clearTimeout(killer);

  const done = events.find((event) => event.event === "done");
  assert.ok(
    done,
    `client failed (exit ${code}):\n${JSON.stringify(events, null, 2)}\n${stderr}\n${caddyLog.slice(-3000)}`,
  );
  assert.equal(code, 0);
  assert.deepEqual(done.tools, ["wait_for_release"]);
  assert.equal(
    done.streamableResult,
    "released=true",
    "the Streamable HTTP progress event arrived before the result",
  );
  assert.equal(done.sseResult, "released=true", "the legacy /sse progress event arrived before the result");
  assert.equal(done.consentCount, 1, "one approval on the consent page covers both endpoints");
  assert.match(String(done.grantedScope), /messages:send/);
  assert.deepEqual(
    events.filter((event) => event.event === "progress").map((event) => event.transport),
    ["streamable-http", "sse"],
  );
});
