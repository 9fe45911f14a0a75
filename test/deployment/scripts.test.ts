// The deployment kit, run for real: shellcheck on every script, the scripts' dry runs and
// argument errors through bash, the launchd plists through Python's plistlib, and the
// rendered Caddyfile through the real Caddy's adapter.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { setOwnerPassword } from "../../src/remote/index.js";
import { getFreePort, OWNER_PASSWORD } from "../helpers/remote-fixtures.js";
import { waitUntil } from "../helpers/wait.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SETUP_VPS = join(REPO, "deployment/setup-vps.sh");
const INSTALL_AGENT = join(REPO, "deployment/install-launchagent.sh");
const OPEN_TUNNEL = join(REPO, "deployment/tunnel/open-tunnel.sh");
const RUN_REMOTE = join(REPO, "scripts/run-remote.sh");
/** The real `remote` command (with a small test MCP server), run through tsx as a child process. */
const REMOTE_CLI = join(REPO, "test/helpers/remote-cli-entry.ts");
const TRUSTED = "203.0.113.7,10.8.0.0/24";

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function bash(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const result = spawnSync("bash", [script, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function assertOk(run: Run, what: string): void {
  assert.equal(run.status, 0, `${what} failed (exit ${run.status}):\n${run.stderr}\n${run.stdout}`);
}

function have(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).status === 0;
}

/** Parses a property list with Python's plistlib, the same parser family launchd's format follows. */
function parsePlist(xml: string): Record<string, unknown> {
  const result = spawnSync(
    "python3",
    ["-c", "import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))"],
    { input: xml, encoding: "utf8" },
  );
  if (result.error) throw new Error(`python3 is needed to check the plists: ${result.error.message}`);
  assert.equal(result.status, 0, `plistlib rejected the plist:\n${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

/** The file bodies a dry run of install-launchagent.sh prints between its markers, by path. */
function dryRunWrites(output: string): Map<string, string> {
  const files = new Map<string, string>();
  const pattern = /^\[dry-run\] would write (.+):\n([\s\S]*?)\n\[dry-run\] end of \1$/gm;
  for (const match of output.matchAll(pattern)) files.set(match[1]!, match[2]!);
  return files;
}

function collectShellScripts(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...collectShellScripts(full));
    else if (entry.name.endsWith(".sh")) found.push(full);
  }
  return found;
}

const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `mmm-deploy-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A real ed25519 public key made by ssh-keygen. */
function makePublicKey(): string {
  const dir = tempDir("key");
  const keyPath = join(dir, "id");
  const result = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "imac", "-f", keyPath]);
  assert.equal(result.status, 0, "ssh-keygen failed");
  return readFileSync(`${keyPath}.pub`, "utf8").trim();
}

describe("shellcheck", () => {
  test("every shell script in scripts/ and deployment/ passes shellcheck", () => {
    assert.ok(
      have("shellcheck"),
      "shellcheck is not installed; install the Debian package `shellcheck` (apt-get install -y shellcheck)",
    );
    const scripts = [
      ...collectShellScripts(join(REPO, "scripts")),
      ...collectShellScripts(join(REPO, "deployment")),
    ];
    for (const expected of [SETUP_VPS, INSTALL_AGENT, OPEN_TUNNEL, RUN_REMOTE]) {
      assert.ok(scripts.includes(expected), `${expected} is missing`);
    }
    const result = spawnSync("shellcheck", ["--severity=style", ...scripts], { encoding: "utf8" });
    assert.equal(result.status, 0, `shellcheck found problems:\n${result.stdout}${result.stderr}`);
  });
});

describe("setup-vps.sh", () => {
  function fingerprint(path: string): string {
    return existsSync(path) ? createHash("sha256").update(readFileSync(path)).digest("hex") : "absent";
  }
  function userExists(name: string): boolean {
    return spawnSync("id", ["-u", name]).status === 0;
  }

  test("--help explains both modes", () => {
    const run = bash(SETUP_VPS, ["--help"]);
    assertOk(run, "--help");
    assert.match(run.stdout, /DOMAIN UPSTREAM/);
    assert.match(run.stdout, /--tunnel/);
    assert.match(run.stdout, /--dry-run/);
  });

  test("--dry-run in direct mode shows the whole setup and changes nothing", () => {
    const caddyfileBefore = fingerprint("/etc/caddy/Caddyfile");
    const run = bash(SETUP_VPS, [
      "--dry-run",
      "--email",
      "me@example.com",
      "mcp.example.com",
      "203.0.113.7:8000",
    ]);
    assertOk(run, "dry run");
    const out = run.stdout;
    if (!existsSync("/etc/apt/sources.list.d/caddy-stable.list")) {
      assert.match(
        out,
        /would run: curl -1sLf https:\/\/dl\.cloudsmith\.io\/public\/caddy\/stable\/gpg\.key/,
      );
      assert.match(out, /debian\.deb\.txt > \/etc\/apt\/sources\.list\.d\/caddy-stable\.list/);
      assert.match(out, /would run: apt-get install -y caddy/);
    }
    assert.match(out, /would write \/etc\/caddy\/Caddyfile \(mode 0644\):/);
    assert.match(out, /\|\s+email me@example\.com/);
    assert.match(out, /\|\s+mcp\.example\.com \{/);
    assert.match(out, /\|\s+reverse_proxy 203\.0\.113\.7:8000 \{/);
    assert.match(out, /\|\s+flush_interval -1/);
    assert.doesNotMatch(out, /^\s*\|\s*encode\b/m, "compression would buffer SSE");
    assert.match(out, /would run: systemctl enable caddy/);
    assert.match(out, /would run: systemctl reload caddy/);
    if (have("ufw")) assert.match(out, /would run: ufw allow 443\/tcp/);
    else assert.match(out, /ufw not installed/);
    assert.match(out, /Dry run complete: nothing was changed/);
    assert.match(
      out,
      /run-remote\.sh --host 0\.0\.0\.0 --port 8000 --trust-proxy VPS_ADDRESS https:\/\/mcp\.example\.com/,
    );
    assert.doesNotMatch(out, /useradd/, "direct mode creates no tunnel user");
    assert.equal(
      fingerprint("/etc/caddy/Caddyfile"),
      caddyfileBefore,
      "a dry run must not write the Caddyfile",
    );
  });

  test("the original guide's `setup-vps.sh DOMAIN IP`: a bare address or host name means port 8000", () => {
    for (const [upstream, dial] of [
      ["203.0.113.7", "203.0.113.7:8000"],
      ["myhome.duckdns.org", "myhome.duckdns.org:8000"],
      ["[2001:db8::7]", "[2001:db8::7]:8000"],
      ["203.0.113.7:9000", "203.0.113.7:9000"],
    ]) {
      const run = bash(SETUP_VPS, ["--dry-run", "mcp.example.com", upstream as string]);
      assertOk(run, `dry run with ${upstream}`);
      assert.ok(run.stdout.includes(`reverse_proxy ${dial} {`), `${upstream} → ${dial}:\n${run.stdout}`);
      assert.ok(run.stdout.includes(`Caddy would serve https://mcp.example.com and proxy to ${dial}.`));
    }
  });

  test("--dry-run --tunnel proxies to the loopback tunnel end and locks the key down", () => {
    const key = makePublicKey();
    const run = bash(SETUP_VPS, [
      "--dry-run",
      "--tunnel",
      "--tunnel-user",
      "mmmtesttunnel",
      "--tunnel-key",
      key,
      "mcp.example.com",
      "8123",
    ]);
    assertOk(run, "tunnel dry run");
    const out = run.stdout;
    assert.match(out, /\|\s+reverse_proxy 127\.0\.0\.1:8123 \{/);
    assert.match(out, /would run: useradd --system .*--shell \S*nologin .*mmmtesttunnel/);
    const keyLine = out.split("\n").find((line) => line.includes(key));
    assert.ok(keyLine, "the authorized_keys entry is shown");
    assert.match(keyLine, /\|\s+restrict,port-forwarding,permitlisten="127\.0\.0\.1:8123" ssh-ed25519 /);
    assert.match(
      out,
      /install-launchagent\.sh --server-url https:\/\/mcp\.example\.com --tunnel mmmtesttunnel@/,
    );
    assert.equal(userExists("mmmtesttunnel"), false, "a dry run must not create the user");
  });

  test("--print-caddyfile output is accepted by the real Caddy with SSE-safe proxying", () => {
    assert.ok(have("caddy"), "caddy is not installed; install the Debian package `caddy`");
    const run = bash(SETUP_VPS, ["--print-caddyfile", "mcp.example.com", "myhome.duckdns.org:8000"]);
    assertOk(run, "--print-caddyfile");
    assert.doesNotMatch(run.stdout, /\{\{|\}\}/, "no placeholder left");
    assert.doesNotMatch(run.stdout, /^\s*email /m, "no e-mail line without --email");
    const dir = tempDir("caddyfile");
    const file = join(dir, "Caddyfile");
    writeFileSync(file, run.stdout);
    const adapted = spawnSync("caddy", ["adapt", "--config", file, "--adapter", "caddyfile"], {
      encoding: "utf8",
      env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    });
    assert.equal(adapted.status, 0, `caddy adapt failed:\n${adapted.stderr}`);
    const json = adapted.stdout;
    const config = JSON.parse(json) as { apps: { http: { servers: Record<string, unknown> } } };
    const server = Object.values(config.apps.http.servers)[0] as Record<string, unknown>;
    assert.deepEqual(server.listen, [":443"]);
    assert.equal(server.write_timeout, undefined, "a write timeout would cut long SSE streams");
    assert.match(json, /"handler":"reverse_proxy"/);
    assert.match(json, /"flush_interval":-1/);
    assert.match(json, /"dial":"myhome\.duckdns\.org:8000"/);
    assert.match(json, /"host":\["mcp\.example\.com"\]/);
    assert.doesNotMatch(json, /"handler":"encode"/);
  });

  const badArguments: Array<{ args: string[]; message: RegExp }> = [
    { args: [], message: /missing DOMAIN/ },
    { args: ["mcp.example.com"], message: /expected DOMAIN and UPSTREAM/ },
    {
      args: ["https://mcp.example.com", "1.2.3.4:8000"],
      message: /without a scheme, e\.g\. mcp\.example\.com/,
    },
    { args: ["mcp.example.com:443", "1.2.3.4:8000"], message: /without a path or port/ },
    { args: ["203.0.113.7", "1.2.3.4:8000"], message: /not an IP address/ },
    { args: ["bad_name.example.com", "1.2.3.4:8000"], message: /not a valid host name/ },
    {
      args: ["mcp.example.com", "http://1.2.3.4:8000"],
      message: /UPSTREAM must be HOST or HOST:PORT without a scheme/,
    },
    {
      args: ["mcp.example.com", "YOUR_IMAC_PUBLIC_IP"],
      message: /replace YOUR_IMAC_PUBLIC_IP with the Mac's real address/,
    },
    { args: ["mcp.example.com", "1.2.3.4:"], message: /port must be a number from 1 to 65535/ },
    { args: ["mcp.example.com", "1.2.3.4:0"], message: /port must be a number from 1 to 65535/ },
    { args: ["mcp.example.com", "1.2.3.4:99999"], message: /port must be a number from 1 to 65535/ },
    { args: ["mcp.example.com", "300.2.3.4:8000"], message: /not a valid IPv4 address/ },
    { args: ["mcp.example.com", "a:b:8000"], message: /UPSTREAM must be HOST or HOST:PORT/ },
    { args: ["--tunnel", "mcp.example.com", "8000", "extra"], message: /too many arguments/ },
    {
      args: ["--tunnel", "--tunnel-key", "not a key", "mcp.example.com"],
      message: /one OpenSSH public key line/,
    },
    { args: ["--tunnel", "--tunnel-user", "root", "mcp.example.com"], message: /must not be root/ },
    {
      args: ["--tunnel", "--tunnel-user", "Bad User", "mcp.example.com"],
      message: /lower-case Unix user name/,
    },
    { args: ["--email", "nope", "mcp.example.com", "1.2.3.4:8000"], message: /not an e-mail address/ },
    {
      args: ["--tunnel-key", "x", "mcp.example.com", "1.2.3.4:8000"],
      message: /only makes sense with --tunnel/,
    },
    { args: ["--frobnicate"], message: /unknown option: --frobnicate/ },
  ];
  for (const { args, message } of badArguments) {
    test(`rejects ${JSON.stringify(args)} with a clear error`, () => {
      const run = bash(SETUP_VPS, ["--dry-run", ...args]);
      assert.equal(run.status, 2, `expected exit 2, got ${run.status}\n${run.stdout}`);
      assert.match(run.stderr, /^setup-vps\.sh: error: /);
      assert.match(run.stderr, message);
      assert.doesNotMatch(run.stdout, /would run/, "nothing is attempted after a bad argument");
    });
  }

  test("a forged key with a valid prefix is rejected by ssh-keygen", () => {
    const run = bash(SETUP_VPS, [
      "--dry-run",
      "--tunnel",
      "--tunnel-key",
      "ssh-ed25519 AAAAnotreallyakey",
      "a.example.com",
    ]);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /ssh-keygen rejects the tunnel key/);
  });
});

describe("launchd agents", () => {
  const remoteTemplate = readFileSync(join(REPO, "deployment/imac-launchagent.plist"), "utf8");
  const tunnelTemplate = readFileSync(join(REPO, "deployment/imac-tunnel-launchagent.plist"), "utf8");

  test("the remote agent template is a valid plist with the guide's keys and log paths", () => {
    const plist = parsePlist(remoteTemplate);
    assert.equal(plist.Label, "com.macmessagesmcp.remote");
    const args = plist.ProgramArguments as string[];
    assert.ok(Array.isArray(args));
    assert.ok(args.includes("remote"), "runs the remote subcommand");
    assert.equal(args[args.indexOf("--server-url") + 1], "__SERVER_URL__");
    assert.equal(plist.WorkingDirectory, "__WORKING_DIRECTORY__");
    assert.equal(plist.RunAtLoad, true);
    assert.equal(plist.KeepAlive, true);
    assert.equal(plist.StandardOutPath, "/tmp/mac-messages-mcp-remote.stdout.log");
    assert.equal(plist.StandardErrorPath, "/tmp/mac-messages-mcp-remote.stderr.log");
    // A stop lets a send in flight finish (up to the 30 s osascript timeout) before launchd's SIGKILL.
    assert.ok((plist.ExitTimeOut as number) > 32, `ExitTimeOut ${plist.ExitTimeOut}`);
  });

  test("the tunnel agent template is a valid plist that keeps the tunnel script running", () => {
    const plist = parsePlist(tunnelTemplate);
    assert.equal(plist.Label, "com.macmessagesmcp.tunnel");
    assert.deepEqual((plist.ProgramArguments as string[]).slice(0, 2), [
      "/bin/bash",
      "deployment/tunnel/open-tunnel.sh",
    ]);
    assert.equal(plist.WorkingDirectory, "__WORKING_DIRECTORY__");
    assert.equal(plist.RunAtLoad, true);
    assert.equal(plist.KeepAlive, true);
    assert.equal(plist.StandardErrorPath, "/tmp/mac-messages-mcp-tunnel.stderr.log");
  });

  test("install-launchagent.sh --dry-run --tunnel fills in both agents and writes nothing", () => {
    const home = tempDir("home");
    const run = bash(
      INSTALL_AGENT,
      [
        "--dry-run",
        "--server-url",
        "https://mcp.example.com/",
        "--tunnel",
        "tunnel@vps.example.com",
        "--port",
        "8123",
      ],
      { HOME: home, MAC_MESSAGES_MCP_HOME: join(home, "state") },
    );
    assertOk(run, "install dry run");
    const writes = dryRunWrites(run.stdout);
    const serverPath = join(home, "Library/LaunchAgents/com.macmessagesmcp.remote.plist");
    const tunnelPath = join(home, "Library/LaunchAgents/com.macmessagesmcp.tunnel.plist");
    assert.deepEqual([...writes.keys()].sort(), [serverPath, tunnelPath]);

    const server = parsePlist(writes.get(serverPath)!);
    const args = server.ProgramArguments as string[];
    assert.equal(args[args.indexOf("--server-url") + 1], "https://mcp.example.com");
    assert.equal(args[args.indexOf("--host") + 1], "127.0.0.1", "tunnel mode listens on loopback only");
    assert.equal(args[args.indexOf("--port") + 1], "8123");
    assert.ok(args.includes("remote"));
    assert.equal(server.WorkingDirectory, REPO);
    const path = (server.EnvironmentVariables as { PATH: string }).PATH;
    assert.ok(path.split(":").includes(dirname(process.execPath)), `PATH ${path} finds this node`);
    assert.equal(server.StandardOutPath, "/tmp/mac-messages-mcp-remote.stdout.log");
    assert.equal(server.StandardErrorPath, "/tmp/mac-messages-mcp-remote.stderr.log");
    assert.doesNotMatch(writes.get(serverPath)!, /<string>__[A-Z_]+__<\/string>/);

    const tunnel = parsePlist(writes.get(tunnelPath)!);
    const tunnelArgs = tunnel.ProgramArguments as string[];
    assert.equal(
      tunnelArgs[tunnelArgs.indexOf("--identity") + 1],
      join(home, ".ssh/mac-messages-mcp-tunnel"),
    );
    assert.equal(tunnelArgs[tunnelArgs.indexOf("--port") + 1], "8123");
    assert.equal(tunnelArgs.at(-1), "tunnel@vps.example.com");
    assert.equal(tunnel.WorkingDirectory, REPO);

    assert.match(run.stdout, /would run: ssh-keygen -q -t ed25519/);
    assert.match(run.stdout, new RegExp(`would run: launchctl bootstrap gui/\\d+ ${serverPath}`));
    assert.match(run.stdout, /warning: no owner password is set/);
    assert.match(
      run.stdout,
      /setup-vps\.sh --tunnel --tunnel-user tunnel --tunnel-key .* mcp\.example\.com 8123/,
    );
    assert.deepEqual(readdirSync(home), [], "a dry run leaves HOME untouched");
  });

  test("install-launchagent.sh --dry-run --direct listens on all interfaces and has no tunnel agent", () => {
    const home = tempDir("home-direct");
    const run = bash(INSTALL_AGENT, ["--dry-run", "--server-url", "https://mcp.example.com", "--direct"], {
      HOME: home,
    });
    assertOk(run, "direct install dry run");
    const writes = dryRunWrites(run.stdout);
    assert.equal(writes.size, 1);
    const server = parsePlist([...writes.values()][0]!);
    const args = server.ProgramArguments as string[];
    assert.equal(args[args.indexOf("--host") + 1], "0.0.0.0");
    assert.equal(args[args.indexOf("--port") + 1], "8000");
    assert.ok(!args.includes("--trust-proxy"));
    assert.match(
      run.stdout,
      /without --trust-proxy VPS_ADDRESS, every request through Caddy counts as the VPS's/,
    );
  });

  test("install-launchagent.sh --trust-proxy passes the VPS addresses to `remote` as one argument", () => {
    const home = tempDir("home-trust");
    const run = bash(
      INSTALL_AGENT,
      ["--dry-run", "--server-url", "https://mcp.example.com", "--direct", "--trust-proxy", TRUSTED],
      { HOME: home },
    );
    assertOk(run, "direct install dry run with --trust-proxy");
    const server = parsePlist([...dryRunWrites(run.stdout).values()][0]!);
    assert.deepEqual((server.ProgramArguments as string[]).slice(3), [
      "remote",
      "--server-url",
      "https://mcp.example.com",
      "--host",
      "0.0.0.0",
      "--port",
      "8000",
      "--trust-proxy",
      TRUSTED,
    ]);
    assert.doesNotMatch(run.stdout, /without --trust-proxy/);
  });

  test("the filled-in values are XML-escaped", () => {
    const home = tempDir("home & <odd>");
    const run = bash(
      INSTALL_AGENT,
      ["--dry-run", "--server-url", "https://mcp.example.com", "--tunnel", "t@v.example.com"],
      {
        HOME: home,
      },
    );
    assertOk(run, "dry run with an odd HOME");
    const tunnel = [...dryRunWrites(run.stdout).values()][1]!;
    const args = parsePlist(tunnel).ProgramArguments as string[];
    assert.equal(args[args.indexOf("--identity") + 1], join(home, ".ssh/mac-messages-mcp-tunnel"));
  });

  const badInstallArguments: Array<{ args: string[]; message: RegExp }> = [
    { args: [], message: /missing --server-url/ },
    { args: ["--server-url", "https://mcp.example.com"], message: /choose a mode: --tunnel USER@VPS/ },
    {
      args: ["--server-url", "http://mcp.example.com", "--direct"],
      message: /must be the public https:\/\//,
    },
    {
      args: ["--server-url", "https://a.example.com", "--direct", "--tunnel", "t@v.example.com"],
      message: /not both/,
    },
    {
      args: ["--server-url", "https://a.example.com", "--tunnel", "vps.example.com"],
      message: /tunnel@vps\.example\.com/,
    },
    {
      args: ["--server-url", "https://a.example.com", "--direct", "--port", "http"],
      message: /--port must be a number/,
    },
    { args: ["--bogus"], message: /unknown argument: --bogus/ },
    {
      args: ["--server-url", "https://a.example.com", "--direct", "--trust-proxy"],
      message: /--trust-proxy needs a value/,
    },
    {
      args: ["--server-url", "https://a.example.com", "--direct", "--trust-proxy", "VPS_ADDRESS"],
      message: /--trust-proxy must be the VPS's IP address\(es\) or CIDR range\(s\).*got 'VPS_ADDRESS'/,
    },
  ];
  for (const { args, message } of badInstallArguments) {
    test(`install-launchagent.sh rejects ${JSON.stringify(args)}`, () => {
      const run = bash(INSTALL_AGENT, ["--dry-run", ...args], { HOME: tempDir("home-bad") });
      assert.equal(run.status, 2, `expected exit 2, got ${run.status}\n${run.stdout}`);
      assert.match(run.stderr, /install-launchagent\.sh: error: /);
      assert.match(run.stderr, message);
    });
  }

  test("install-launchagent.sh --uninstall --dry-run only shows what it would remove", () => {
    const home = tempDir("home-uninstall");
    const run = bash(INSTALL_AGENT, ["--uninstall", "--dry-run"], { HOME: home });
    assertOk(run, "uninstall dry run");
    assert.match(run.stdout, /would run: launchctl bootout gui\/\d+\/com\.macmessagesmcp\.remote/);
    assert.match(run.stdout, /would run: rm -f .*com\.macmessagesmcp\.tunnel\.plist/);
  });
});

describe("open-tunnel.sh", () => {
  test("--dry-run shows a loopback-to-loopback reverse forward that fails fast and keeps alive", () => {
    const run = bash(OPEN_TUNNEL, [
      "--dry-run",
      "--identity",
      "/k/id",
      "--port",
      "8123",
      "--ssh-port",
      "2222",
      "tunnel@vps.example.com",
    ]);
    assertOk(run, "open-tunnel dry run");
    const line = run.stdout.trim();
    assert.match(line, /^\[dry-run\] would run: ssh -N -T -i \/k\/id -p 2222 /);
    assert.match(line, / -o ExitOnForwardFailure=yes /);
    assert.match(line, / -o ServerAliveInterval=30 /);
    assert.match(line, / -o BatchMode=yes /);
    assert.match(line, / -R 127\.0\.0\.1:8123:127\.0\.0\.1:8123 tunnel@vps\.example\.com$/);
  });

  test("rejects a destination without a user, a bad port and a missing key", () => {
    let run = bash(OPEN_TUNNEL, ["--dry-run", "vps.example.com"]);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /USER@VPS must look like/);
    run = bash(OPEN_TUNNEL, ["--dry-run", "--port", "0", "t@vps.example.com"]);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--port must be a number/);
    run = bash(OPEN_TUNNEL, ["--identity", "/nonexistent/key", "t@vps.example.com"]);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /private key not found: \/nonexistent\/key/);
  });
});

describe("run-remote.sh", () => {
  // A copy of the script in a scratch tree, so build staleness can be arranged with real mtimes.
  let tree: string;
  let script: string;
  let stateDir: string;
  before(() => {
    tree = tempDir("tree");
    mkdirSync(join(tree, "scripts"));
    mkdirSync(join(tree, "src"));
    mkdirSync(join(tree, "dist/src/cli"), { recursive: true });
    mkdirSync(join(tree, "node_modules"));
    script = join(tree, "scripts/run-remote.sh");
    copyFileSync(RUN_REMOTE, script);
    writeFileSync(join(tree, "src/a.ts"), "export {};\n");
    writeFileSync(join(tree, "dist/src/cli/main.js"), "\n");
    stateDir = join(tree, "state");
    mkdirSync(stateDir);
    writeFileSync(join(stateDir, "owner_password.json"), '{"version":1}\n');
  });
  function setMtimes(srcSeconds: number, distSeconds: number): void {
    utimesSync(join(tree, "src/a.ts"), srcSeconds, srcSeconds);
    utimesSync(join(tree, "dist/src/cli/main.js"), distSeconds, distSeconds);
  }

  test("--dry-run with a fresh build prints the remote command and builds nothing", () => {
    setMtimes(1_700_000_000, 1_700_000_100);
    const run = bash(script, ["--dry-run", "https://mcp.example.com/"], { MAC_MESSAGES_MCP_HOME: stateDir });
    assertOk(run, "dry run");
    assert.equal(
      run.stdout.trim(),
      `[dry-run] would run in ${tree}: node dist/src/cli/main.js remote --server-url https://mcp.example.com --host 127.0.0.1 --port 8000`,
    );
    assert.doesNotMatch(run.stderr, /npm run build/);
  });

  test("a build older than src/ is rebuilt, and extra arguments are passed on", () => {
    setMtimes(1_700_000_100, 1_700_000_000);
    const run = bash(
      script,
      ["--dry-run", "--host", "0.0.0.0", "--port", "9000", "https://mcp.example.com", "--", "--x"],
      {
        MAC_MESSAGES_MCP_HOME: stateDir,
      },
    );
    assertOk(run, "stale dry run");
    assert.match(run.stderr, /would run: npm run build \(src\/ has changed since the last build\)/);
    assert.match(
      run.stdout,
      /remote --server-url https:\/\/mcp\.example\.com --host 0\.0\.0\.0 --port 9000 --x$/m,
    );
    assert.match(run.stderr, /reachable from your network/);
    assert.match(run.stderr, /no --trust-proxy: requests through Caddy all count as the VPS's address/);
  });

  test("--trust-proxy reaches `remote` as one argument, and the real server accepts what it passes", async () => {
    // Not a dry run: the script execs the build, here a stand-in that records the argv it was given.
    const argvFile = join(tree, "argv.json");
    writeFileSync(
      join(tree, "dist/src/cli/main.js"),
      'require("node:fs").writeFileSync(process.env.ARGV_FILE, JSON.stringify(process.argv.slice(2)));\n',
    );
    setMtimes(1_700_000_000, 1_700_000_100);
    const run = bash(
      script,
      ["--host", "0.0.0.0", "--trust-proxy", TRUSTED, "https://mcp.example.com", "--", "--log-level", "warn"],
      { MAC_MESSAGES_MCP_HOME: stateDir, ARGV_FILE: argvFile },
    );
    assertOk(run, "run-remote.sh with --trust-proxy");
    assert.doesNotMatch(run.stderr, /no --trust-proxy/);
    const argv = JSON.parse(readFileSync(argvFile, "utf8")) as string[];
    assert.deepEqual(argv, [
      "remote",
      "--server-url",
      "https://mcp.example.com",
      "--host",
      "0.0.0.0",
      "--port",
      "8000",
      "--trust-proxy",
      TRUSTED,
      "--log-level",
      "warn",
    ]);

    // The same --trust-proxy value, given to the real command on loopback: it starts and serves.
    const realState = tempDir("trust-state");
    await setOwnerPassword(realState, OWNER_PASSWORD);
    const port = await getFreePort();
    const trusted = argv[argv.indexOf("--trust-proxy") + 1]!;
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        REMOTE_CLI,
        "remote",
        "--server-url",
        `http://127.0.0.1:${port}`,
        "--port",
        String(port),
        "--state-dir",
        realState,
        "--trust-proxy",
        trusted,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await waitUntil(
        () => {
          if (child.exitCode !== null) throw new Error(`remote exited:\n${stderr}`);
          return stderr.includes("listening on");
        },
        "the remote server to listen",
        120_000,
      );
      assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal(await exited, 0, stderr);
  });

  test("a --trust-proxy entry the shell lets through but that is no address range stops `remote` in one line", () => {
    const realState = tempDir("trust-bad-state");
    const result = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        REMOTE_CLI,
        "remote",
        "--server-url",
        "http://127.0.0.1:8000",
        "--state-dir",
        realState,
        "--trust-proxy",
        "10.8.0.0/99",
      ],
      { encoding: "utf8", timeout: 120_000 },
    );
    assert.equal(result.status, 1, result.stderr);
    assert.equal(
      result.stderr.trim(),
      "mac-messages-mcp: --trust-proxy must be IP addresses or CIDR ranges (like 10.8.0.1 or 10.8.0.0/24), got: 10.8.0.0/99",
    );
  });

  test("--no-build refuses to run a stale build", () => {
    setMtimes(1_700_000_100, 1_700_000_000);
    const run = bash(script, ["--no-build", "https://mcp.example.com"], { MAC_MESSAGES_MCP_HOME: stateDir });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /src\/ has changed since the last build, and --no-build was given/);
  });

  test("refuses to start without the owner password and says how to set it", () => {
    setMtimes(1_700_000_000, 1_700_000_100);
    const run = bash(script, ["--dry-run", "https://mcp.example.com"], {
      MAC_MESSAGES_MCP_HOME: tempDir("empty-state"),
    });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /no owner password is set/);
    assert.match(run.stderr, /auth set-password/);
  });

  test("refuses a Node.js older than 20.10", () => {
    const bin = tempDir("old-node");
    writeFileSync(join(bin, "node"), "#!/bin/sh\necho 18.19.0\n");
    chmodSync(join(bin, "node"), 0o755);
    const run = bash(script, ["--dry-run", "https://mcp.example.com"], {
      MAC_MESSAGES_MCP_HOME: stateDir,
      PATH: `${bin}:${process.env.PATH ?? ""}`,
    });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /Node\.js 20\.10 or newer is required, found 18\.19\.0/);
  });

  const badArguments: Array<{ args: string[]; message: RegExp }> = [
    { args: [], message: /missing SERVER_URL/ },
    { args: ["http://mcp.example.com"], message: /must be the public https:\/\/ origin/ },
    { args: ["https://mcp.example.com/mcp"], message: /must be the public https:\/\/ origin/ },
    {
      args: ["--port", "70000", "https://mcp.example.com"],
      message: /--port must be a number from 1 to 65535/,
    },
    { args: ["https://a.example.com", "https://b.example.com"], message: /unexpected argument/ },
    { args: ["--wat"], message: /unknown option: --wat/ },
    { args: ["--trust-proxy"], message: /--trust-proxy needs a value/ },
    {
      args: ["--trust-proxy", "VPS_ADDRESS", "https://mcp.example.com"],
      message: /--trust-proxy must be the proxy's IP address\(es\) or CIDR range\(s\).*got 'VPS_ADDRESS'/,
    },
  ];
  for (const { args, message } of badArguments) {
    test(`rejects ${JSON.stringify(args)} with a clear error`, () => {
      const run = bash(script, ["--dry-run", ...args], { MAC_MESSAGES_MCP_HOME: stateDir });
      assert.equal(run.status, 2);
      assert.match(run.stderr, /^run-remote\.sh: error: /);
      assert.match(run.stderr, message);
    });
  }
});
